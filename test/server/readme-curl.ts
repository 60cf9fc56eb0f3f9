/** What the README-example tests share: a README `curl` command line as the request it makes. */

export interface CurlRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** curl's arguments (after `curl`, already split as a shell would) as a request: -d, -X, -H and the URL; `-d` makes it a POST unless -X says otherwise. */
export function curlRequest(args: readonly string[]): CurlRequest {
  let body: string | undefined;
  let method: string | undefined;
  let url = '';
  const headers: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-d') body = args[++i];
    else if (arg === '-X') method = args[++i];
    else if (arg === '-H') {
      const header = args[++i] as string;
      headers[header.slice(0, header.indexOf(':'))] = header.slice(header.indexOf(':') + 1).trim();
    } else if (!arg.startsWith('-')) url = arg;
  }
  return { url, method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body };
}

/** Sends a README request to a local server on `port` (its `localhost:50000` replaced); resolves its status and text. */
export async function sendCurl(request: CurlRequest, port: number): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://${request.url.replace('localhost:50000', `127.0.0.1:${port}`)}`, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
  return { status: response.status, text: await response.text() };
}
