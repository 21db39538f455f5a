/** `GET /openapi.json` (the API description), `GET /asyncapi.json` (the domain events') and `GET /docs` (a page to browse the first), with the page's files. */
import { createReadStream } from 'node:fs';
import Router from '@koa/router';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';
import { DOCS_CSP, docsAsset, docsPage } from './docs-page.js';
import { eventsDescription } from '../../asyncapi/document.js';
import { apiDescription } from './document.js';

export function apiDescriptionRoutes(): Router {
  const router = new Router();
  router.get('/openapi.json', (ctx) => {
    ctx.body = apiDescription();
  });
  router.get('/asyncapi.json', (ctx) => {
    ctx.body = eventsDescription();
  });
  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = docsPage;
  });
  router.get('/docs/:asset', (ctx) => {
    const asset = docsAsset(String(ctx.params.asset));
    if (!asset) throw new HttpError(404, httpMessages.notFound);
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = asset.type;
    ctx.body = 'file' in asset ? createReadStream(asset.file) : asset.text;
  });
  return router;
}
