import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The getting-started guide: `docs/getting-started.html` (a fragment) with each `<!-- example: PATH -->` replaced
 * by the example file under `docs/examples/` and the output it prints (`PATH.out`), exactly as the examples test
 * runs them. Built once at start-up; no client-side script, so it renders under the strict CSP. Code blocks take
 * keyboard focus so a long line can be scrolled without a mouse.
 */
export function renderGettingStarted(docsDir: string): string | null {
  const page = join(docsDir, 'getting-started.html');
  if (!existsSync(page)) return null;
  const body = readFileSync(page, 'utf8').replace(/<!-- example: ([\w./-]+) -->/g, (_m, file: string) =>
    exampleFigure(docsDir, file),
  );
  const toc = [...body.matchAll(/<h2 id="([^"]+)">(.*?)<\/h2>/g)]
    .map(([, id, title]) => `<li><a href="#${id}">${title}</a></li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Getting started · Crowdee API</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<style>${STYLE}</style>
</head>
<body>
<header><a href="/">Crowdee</a> · <a href="/docs">API reference</a> · <a href="/docs/errors">Error codes</a></header>
<nav aria-label="On this page"><h2 id="on-this-page">On this page</h2><ol>${toc}</ol></nav>
<main>
${body}
</main>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LANGUAGE: Record<string, string> = { curl: 'curl', cli: 'CLI', typescript: 'TypeScript' };

function exampleFigure(docsDir: string, file: string): string {
  const code = readFileSync(join(docsDir, 'examples', file), 'utf8').trimEnd();
  const output = readFileSync(join(docsDir, 'examples', `${file}.out`), 'utf8').trimEnd();
  const language = LANGUAGE[file.split('/')[0] ?? ''] ?? file;
  const id = `example-${file.replace(/[^\w]+/g, '-')}`;
  return `<figure class="example" id="${id}">
<figcaption>${language} · <code>docs/examples/${escapeHtml(file)}</code></figcaption>
<pre tabindex="0"><code>${escapeHtml(code)}</code></pre>
<p class="output-label">Output <span>(values in angle brackets differ on every run)</span></p>
<pre class="output" tabindex="0"><code>${escapeHtml(output)}</code></pre>
</figure>`;
}

const STYLE = `body{font:16px/1.55 system-ui,sans-serif;color:#1f2328;max-width:52rem;margin:0 auto;padding:1rem 1.25rem 4rem}
header{padding:.5rem 0 1rem;border-bottom:1px solid #d0d7de}a{color:#0550ae}
nav{margin:1.25rem 0;padding:.75rem 1rem;background:#f6f8fa;border-radius:8px}nav h2{font-size:1rem;margin:0 0 .25rem}
h2{margin-top:2.25rem;padding-top:.5rem;border-top:1px solid #eaeef2}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.75rem 1rem;overflow-x:auto}
pre.output{background:#fff}figure{margin:1.25rem 0}figcaption{font-size:.9rem;color:#57606a;margin-bottom:.25rem}
.output-label{font-size:.85rem;color:#57606a;margin:.25rem 0}.output-label span{font-size:.8rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.5rem;text-align:left;vertical-align:top}`;
