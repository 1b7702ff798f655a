/** Real one-pixel images of each accepted type, and bytes that only pretend to be one. */
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export const IMAGES = {
  'image/png': b64(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  ),
  'image/jpeg': b64(
    '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  ),
  'image/gif': b64('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='),
  'image/webp': b64('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=='),
} as const;

/** An HTML page with a script: what a file named avatar.png may really hold. */
export const HTML = new TextEncoder().encode(
  '<!doctype html><html><script>alert(document.cookie)</script></html>',
);

/** An SVG image: refused, since it can carry script. */
export const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>',
);

/** A PNG signature followed by `size` bytes in all: big enough to cross a size limit. */
export function pngOfSize(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  bytes.set(IMAGES['image/png']);
  return bytes;
}

/** A multipart body with one file part `image` (the form a browser or either SDK sends). */
export function imageForm(
  bytes: Uint8Array<ArrayBuffer>,
  filename = 'avatar.png',
  type = 'image/png',
): FormData {
  const form = new FormData();
  form.append('image', new Blob([bytes], { type }), filename);
  return form;
}
