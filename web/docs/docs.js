// The interactive API page at /docs: Swagger UI (npm swagger-ui-dist, bundled into the binary like the
// dashboard) over this server's own /openapi.json. Nothing is fetched from anywhere else: no validator badge,
// no fonts, no CDN.
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';

SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  // "Try it out" against this server; the admin token goes in "Authorize" (bearer) for the admin endpoints.
  supportedSubmitMethods: ['get', 'put', 'post', 'delete', 'patch'],
});
