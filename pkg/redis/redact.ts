/** A Redis URL as it may be printed or logged: the password (and an ACL user's) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^@/]*)@/, "//***@");
  }
}

/** Every Redis URL inside a free text (an error message, a log line) with its password redacted. */
export function redactSecrets(text: string): string {
  return text.replace(/(rediss?(?:\+cluster)?:\/\/)([^@\s/]*)@/g, (_m, scheme: string, auth: string) => {
    const user = auth.includes(":") ? auth.slice(0, auth.indexOf(":")) : "";
    return `${scheme}${user}:***@`;
  });
}
