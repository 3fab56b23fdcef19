/** A minimal PNG decoder for screenshots (8-bit grey, grey+alpha, RGB, RGBA; not interlaced), with node:zlib. */
import zlib from 'node:zlib';

export interface Image { width: number; height: number; channels: number; data: Uint8Array }

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(buf: Buffer): Image {
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const colour = body[9];
      if (depth !== 8 || CHANNELS[colour] === undefined || body[12] !== 0) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${body[12]}`);
      channels = CHANNELS[colour];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[out + i - channels] : 0;
      const b = y > 0 ? data[out - stride + i] : 0;
      const c = y > 0 && i >= channels ? data[out - stride + i - channels] : 0;
      let v = line[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${filter} on line ${y}`);
      }
      data[out + i] = v & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** The RGB of pixel i (grey images give r = g = b). */
function rgb(img: Image, i: number): [number, number, number] {
  const o = i * img.channels;
  return img.channels >= 3 ? [img.data[o], img.data[o + 1], img.data[o + 2]] : [img.data[o], img.data[o], img.data[o]];
}

/** Pixels that are not (near) white. */
export function countNonWhite(img: Image, threshold = 245): number {
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const [r, g, b] = rgb(img, i);
    if (r < threshold || g < threshold || b < threshold) n++;
  }
  return n;
}

/** Pixels within `tol` of a colour given as `#rrggbb` on every channel. */
export function countColour(img: Image, hex: string, tol = 12): number {
  const want = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const px = rgb(img, i);
    if (px.every((v, k) => Math.abs(v - want[k]) <= tol)) n++;
  }
  return n;
}
