/** The minimum-version gate of node discovery follows semver precedence (Milvus `>=2.6.0-dev`). */
import { describe, expect, it } from 'vitest';
import { compareSemVer, minVersionFilter, parseSemVer } from '../../../../coord/discovery/index.js';

function cmp(a: string, b: string): number {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (x === undefined || y === undefined) throw new Error(`bad semver in test: ${a} / ${b}`);
  return compareSemVer(x, y);
}

describe('semver', () => {
  it('parses releases, prereleases, build metadata and a leading v', () => {
    expect(parseSemVer('2.6.0')).toEqual({ major: 2, minor: 6, patch: 0, prerelease: [] });
    expect(parseSemVer('v2.6.1-rc.1+abc')).toEqual({ major: 2, minor: 6, patch: 1, prerelease: ['rc', '1'] });
    for (const bad of ['', '2.6', '2.6.x', 'latest', '2.6.0-']) expect(parseSemVer(bad)).toBeUndefined();
  });

  it('orders by semver precedence', () => {
    const ordered = ['2.5.9', '2.6.0-dev', '2.6.0-rc.1', '2.6.0-rc.2', '2.6.0-rc.10', '2.6.0', '2.6.1', '2.10.0', '3.0.0'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(cmp(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(cmp(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(cmp('2.6.0+build1', '2.6.0+build2')).toBe(0);
    expect(cmp('1.0.0-1', '1.0.0-alpha')).toBeLessThan(0);
    expect(cmp('1.0.0-alpha', '1.0.0-alpha.1')).toBeLessThan(0);
  });

  it('minVersionFilter keeps versions at or above the minimum and drops unparsable ones', () => {
    const accepts = minVersionFilter('2.6.0-dev');
    expect(accepts('2.6.0-dev')).toBe(true);
    expect(accepts('2.6.0')).toBe(true);
    expect(accepts('2.7.3')).toBe(true);
    expect(accepts('2.5.14')).toBe(false);
    expect(accepts('')).toBe(false);
    expect(() => minVersionFilter('two.six')).toThrow(RangeError);
  });
});
