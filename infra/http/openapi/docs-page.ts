/**
 * The browsable API description at `/docs`: Swagger UI, its files served from the installed
 * `swagger-ui-dist` package, so the page works offline and loads nothing from elsewhere.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** The files of Swagger UI the page loads, with their media types; nothing else is served. */
const packageFiles = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': JAVASCRIPT,
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
} as const satisfies Record<string, string>;

/** Starts Swagger UI on our document; a file rather than an inline script, so the page's CSP can forbid inline scripts. */
export const INITIALIZER = 'initializer.js';

const initializer = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // The default validator badge would call a public validation service.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export const docsAssetNames: readonly string[] = [...Object.keys(packageFiles), INITIALIZER];

/** The media types of the files (without parameters), for the description. */
export const docsMediaTypes: readonly string[] = [
  ...new Set([...Object.values(packageFiles), JAVASCRIPT].map((type) => type.split(';')[0]!)),
];

/** Only this server: scripts and styles from `/docs`, the document from `/openapi.json`, Swagger UI's inline SVG icons as data URIs. */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Marketplace API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/${INITIALIZER}"></script>
</body>
</html>
`;

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export type DocsAsset = { type: string } & ({ file: string } | { text: string });

/**
 * The asset called `name`, or null. Only the names listed above are known, so a name
 * with `/`, `..` or anything else never reaches the file system.
 */
export function docsAsset(name: string): DocsAsset | null {
  if (name === INITIALIZER) return { type: JAVASCRIPT, text: initializer };
  if (!Object.hasOwn(packageFiles, name)) return null;
  return { type: packageFiles[name as keyof typeof packageFiles], file: join(swaggerUiDir, name) };
}
