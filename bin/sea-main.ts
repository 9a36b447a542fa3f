/** Entry point of the single binary (scripts/build-binary.mjs): the same CLI, already compiled. */
import { main } from '../src/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
