// Helpers for the stdio bridge tests: the compiled scripted LPA and a sink collecting its output lines.
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const SCRIPTED_LPA = fileURLToPath(new URL('./fixtures/scriptedLpa.js', import.meta.url));

export function sink(): { stream: Writable; lines: () => unknown[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) };
}
