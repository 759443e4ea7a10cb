import type {ApiRouteModule} from '../app.js'

/** HTML-escapes text for the page (APP_NAME is an operator's setting, but still text). */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * `GET /up`: the framework health route of Laravel 11+ (outside `/api`, no request id): 200 with a small
 * HTML page saying "Application up" and how long the answer took. Like upstream (no health listeners),
 * it answers without touching the database; `readiness check` and `observe health` are the deep checks.
 */
export const healthRoutes: ApiRouteModule = (app, {config}) => {
  app.get('/up', (request, reply) => {
    const ms = Math.round(reply.elapsedTime)
    const name = escapeHtml(config.appName)
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${name}</title>\n</head>\n<body>\n<main>\n<h2>Application up</h2>\n<p>HTTP request received. Response successfully rendered in ${ms}ms.</p>\n</main>\n</body>\n</html>\n`,
      )
  })
}
