import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY_ONLY = ['aws-cdk-lib', 'constructs', 'fflate'];

describe('the CLI package does not carry the deployment (the CDK is a dev dependency)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    files: string[];
    scripts: Record<string, string>;
  };

  it('aws-cdk-lib, constructs and the zip library are devDependencies only', () => {
    for (const name of DEPLOY_ONLY) {
      expect(pkg.devDependencies, name).toHaveProperty(name);
      expect(pkg.dependencies, name).not.toHaveProperty(name);
    }
    expect(pkg.scripts.synth).toBe('tsx deploy/app.ts');
  });

  /** The specifiers in `file` that name a deployment-only package or a file under deploy/. */
  function deployImports(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] ?? '');
    return specifiers.filter(
      (spec) => DEPLOY_ONLY.some((d) => spec === d || spec.startsWith(`${d}/`)) || (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(ROOT, 'deploy'))),
    );
  }

  it('no source file under src/ imports the CDK, the zip library or anything under deploy/', () => {
    const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((file) => deployImports(join(ROOT, 'src', file)).map((spec) => `${file}: ${spec}`))).toEqual([]);
    // The same scan sees them where they are imported: it would notice.
    expect(deployImports(join(ROOT, 'deploy', 'hub-stack.ts'))).toEqual(expect.arrayContaining(['aws-cdk-lib', './grants.js']));
  });

  it("the package's files (a whitelist) leave deploy/ out", () => {
    expect(pkg.files.length).toBeGreaterThan(0);
    for (const entry of pkg.files) expect(entry.replace(/^\.?\//, '').split('/')[0], entry).not.toMatch(/^(deploy|\*+)$/);
  });
});
