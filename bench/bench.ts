// `npm run bench [-- pipeline|dashboard]`: runs the named benchmarks, both when none is named.
const asked = process.argv.slice(2);
const known = ['pipeline', 'dashboard'];
const unknown = asked.filter((name) => !known.includes(name));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}: choose from ${known.join(', ')}\n`);
  process.exit(2);
}
for (const name of asked.length ? asked : known) {
  process.stderr.write(`— ${name} —\n`);
  await import(`./${name}.js`);
}
