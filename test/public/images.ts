import { PNG } from 'pngjs';

/** Logo fixtures for the certificate's tests (src/domain/registry/logo.test.ts, test/public/certificate-template.test.ts). */

/** A real PNG (pngjs writes it), width × height, filled with one RGBA colour and, when given, a square of another in the middle. */
export function pngBytes(
  width: number,
  height: number,
  rgba: [number, number, number, number] = [11, 79, 138, 255],
  square?: [number, number, number, number],
): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const inner = square && Math.abs(x - width / 2) < height / 4 && Math.abs(y - height / 2) < height / 4;
      png.data.set(inner ? square : rgba, (y * width + x) * 4);
    }
  return PNG.sync.write(png);
}

export const dataUrl = (type: string, b: Buffer) => `data:${type};base64,${b.toString('base64')}`;

/** A 24 × 12 baseline JPEG (made once with Chromium's canvas encoder: blue with a yellow square). */
export const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAMABgDASIAAhEBAxEB/8QAGAAAAwEBAAAAAAAAAAAAAAAAAAUHAwb/xAAnEAABAwMDAgcBAAAAAAAAAAABAgMEAAURBhIxIVEWF1RVk5TR0v/EABYBAQEBAAAAAAAAAAAAAAAAAAUDBv/EACIRAAEDAgYDAAAAAAAAAAAAAAECAwQAEQUSIVFhkRMxgf/aAAwDAQACEQMRAD8A4bRdpYvmpodulrdQw9v3KaIChhClDGQRyO1VLynsXq7n8jf8VF4kl+HIS/EedYfRna40spUMjBwR14NMfEl996uf2nP2rY3hWKzHw5BleJAFiObnXq3VEQJcRlspkNZzf3xpWutLSxY9TTLdEW6thnZtU6QVHKEqOcADk9qKUy5L8yQp+W86++vG5x1ZUo4GBknrwKK0MRtxphtt5WZYABO5A1P00c8pK3FKQLAk2Gwr/9k=',
  'base64',
);
