// Writes docs/data-dictionary.md from the contract (src/contract/).
import { writeFile } from 'node:fs/promises';
import { dataDictionary } from '../src/exports/data-dictionary.js';

await writeFile(new URL('../docs/data-dictionary.md', import.meta.url), dataDictionary());
