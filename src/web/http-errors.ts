// Request failures the server answers with a status code and a one-line JSON message; anything else is a 500.
import { BieError } from "../errors.ts";

export class HttpError extends BieError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(`HTTP_${status}`, message);
    this.name = "HttpError";
    this.status = status;
  }
}

export const badRequest = (m: string) => new HttpError(400, m);
export const notFound = (m: string) => new HttpError(404, m);
