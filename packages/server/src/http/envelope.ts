/** The success envelope of every JSON answer. */
export function ok<T>(message: string, content: T): { message: string; success: true; content: T } {
  return { message, success: true, content };
}

/** The failure envelope (`errors` only on validation failures). */
export interface ErrorBody {
  message: string;
  success: false;
  code: string;
  errors?: Record<string, string>;
}
