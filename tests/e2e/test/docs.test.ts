import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '@coupon-rush/platform';

const DOCS = path.join(REPO_ROOT, 'docs');
const pages = [
  'README.md',
  ...fs
    .readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
/** Text outside fenced code blocks, where links and headings live. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
const anchorsOf = (file: string) => new Set([...prose(read(file)).matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));

describe('README.md and docs/: short, linked, and no link gone stale', () => {
  it('when the README is read, then it is at most 250 lines and links every page of docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).to.be.at.most(250);
    for (const page of pages.filter((p) => p !== 'README.md')) expect(readme, `README links ${page}`).to.include(`](${page})`);
  });

  it('when a page of docs/ is opened, then it starts with its title and a table of contents whose entries are its headings', () => {
    for (const page of pages.filter((p) => p !== 'README.md')) {
      const text = read(page);
      expect(text, page).to.match(/^# .+\n/);
      expect(text, `${page} has a table of contents`).to.include('**Contents**');
      const anchors = anchorsOf(page);
      for (const [, anchor] of text.matchAll(/^\s*- \[[^\]]+\]\(#([^)]+)\)$/gm)) expect(anchors.has(anchor), `${page}: contents entry #${anchor}`).to.equal(true);
    }
  });

  it('when every relative link of the README and docs/ is followed, then its file exists and its anchor is a heading there', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [file, anchor] = target.split('#');
        const resolved = file === '' ? page : path.relative(REPO_ROOT, path.resolve(path.dirname(path.join(REPO_ROOT, page)), file));
        if (!fs.existsSync(path.join(REPO_ROOT, resolved))) broken.push(`${page}: ${target} (no ${resolved})`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).to.deep.equal([]);
  });
});
