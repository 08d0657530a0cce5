/**
 * AWS service errors as the emulator answers them. The JSON 1.1 wire form is
 * `{"__type": code, "message": ...}` with the HTTP status ECS uses for that code; the Query
 * (Auto Scaling) wire form wraps the same code in an `<ErrorResponse>` document.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** Invalid input: a field out of range, a forbidden combination, a malformed identifier. */
export const invalidParameter = (message: string): AwsError =>
  new AwsError("InvalidParameterException", message);

/** A request that names something that does not exist, or the caller may not do. */
export const clientError = (message: string): AwsError => new AwsError("ClientException", message);

export const clusterNotFound = (): AwsError => new AwsError("ClusterNotFoundException", "Cluster not found.");

export const throttled = (): AwsError => new AwsError("ThrottlingException", "Rate exceeded");

export const serverError = (message = "Service Unavailable. Please try again later."): AwsError =>
  new AwsError("ServerException", message, 500);

/** A body the service cannot read as the operation's input shape. */
export const serializationError = (message: string): AwsError =>
  new AwsError("SerializationException", message);
