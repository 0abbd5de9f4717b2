// An error is a value with an HTTP status and a message a human can act on; any layer may
// raise one (a validation, a refused submission), and the HTTP edge maps it once into the
// caller's dialect. Dependency-free, like everything in contract/.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** JSON pointer of the offending field, when there is one (e.g. "/request/model"). */
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}
