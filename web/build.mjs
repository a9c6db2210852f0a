// build.mjs - builds the dashboard into web/dist (run by `npm run build`).
//
// No bundler: the pages are plain ES modules that the browser loads as
// they are. The build copies src/ to dist/, vendors Chart.js's
// self-contained UMD build from node_modules into dist/vendor/ (so the
// relay serves it; nothing is fetched from elsewhere at run time), and
// renders the SMTP error reference from kb/ into dist/reference/*.json
// with the knowledge-base compiler's own loader (tools/kb_json.py).
// Every module is syntax-checked first.
import { cpSync, mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

// Every module must at least parse: a syntax error fails the build here,
// not in a reader's browser.
function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}
for (const f of modules(join(here, 'src', 'js'))) execFileSync(process.execPath, ['--check', f], { stdio: 'inherit' });

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'vendor'), { recursive: true });
cpSync(join(here, 'src'), dist, { recursive: true });

const chartDir = join(here, 'node_modules', 'chart.js');
const chartPkg = JSON.parse(readFileSync(join(chartDir, 'package.json'), 'utf8'));
cpSync(join(chartDir, 'dist', 'chart.umd.min.js'), join(dist, 'vendor', 'chart.umd.min.js'));
cpSync(join(chartDir, 'LICENSE.md'), join(dist, 'vendor', 'chart.js-LICENSE.txt'));

execFileSync('python3', [join(here, 'tools', 'kb_json.py'), join(here, '..', 'kb'),
  join(dist, 'reference')], { stdio: 'inherit' });

writeFileSync(join(dist, 'build.json'), JSON.stringify({
  built: new Date().toISOString(),
  chartjs: chartPkg.version,
}) + '\n');
console.log(`web: built ${dist} (Chart.js ${chartPkg.version})`);
