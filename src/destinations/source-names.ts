/** Where each source lands at a destination: `<root>/<folder name of the source>/`. */
import path from 'node:path';
import { CairnError } from '../domain/errors.ts';

/** Each source's folder name under the root; two sources that would share one are refused before anything is written. */
export function folderNamesOf(sources: string[]): string[] {
  const names = sources.map((source) => path.basename(path.resolve(source)));
  for (const [index, name] of names.entries()) {
    const earlier = names.indexOf(name);
    if (name === '') {
      throw new CairnError('invalid', 'SOURCE_NAME_UNUSABLE', `The source ${sources[index]} cannot be backed up under the name "${name}"`);
    }
    if (earlier !== index) {
      throw new CairnError(
        'invalid',
        'SOURCE_NAMES_CLASH',
        `The sources ${sources[earlier]} and ${sources[index]} would both be copied into "${name}"; back them up with separate jobs or rename one`,
      );
    }
  }
  return names;
}
