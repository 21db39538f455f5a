/** `npm run docs:events`: writes the event catalogue, docs/events.md, from the code. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEventCatalogue, repoDir } from './event-catalogue.js';
import { CATALOGUE_FILE, renderEventCatalogue } from './event-catalogue-markdown.js';

const catalogue = await buildEventCatalogue();
writeFileSync(join(repoDir, CATALOGUE_FILE), renderEventCatalogue(catalogue));
console.log(
  `${CATALOGUE_FILE}: ${catalogue.events.length} events in ${catalogue.streams.length} streams, ${catalogue.consumers.length} consumers`,
);
