// Runs a WebGPU check in a child process on SwiftShader, Chromium's CPU implementation of Vulkan
// (Debian's chromium package: the ICD file and its own libvulkan.so.1 in /usr/lib/chromium).
// A child, because LD_LIBRARY_PATH only takes effect at process start, and because a WebGPU
// failure can abort a process (ARCHITECTURE.md §4) — the test run must survive to report it.
// Nothing here is optional: a machine without SwiftShader fails these tests, saying what to install.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SWIFTSHADER_DIR = process.env.M2FN_SWIFTSHADER_DIR ?? '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${SWIFTSHADER_DIR}/vk_swiftshader_icd.json`;

/** The environment that points the WebGPU provider (Dawn → Vulkan) at SwiftShader. */
export function swiftShaderEnv(): NodeJS.ProcessEnv {
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new Error(
      `WebGPU tests need SwiftShader's Vulkan ICD at ${SWIFTSHADER_ICD}, which is missing. ` +
        `Install Debian's chromium package (apt-get install -y chromium; .ci/run does), or set M2FN_SWIFTSHADER_DIR to the folder holding vk_swiftshader_icd.json.`,
    );
  }
  const ld = [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { ...process.env, VK_DRIVER_FILES: SWIFTSHADER_ICD, VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: ld };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `node ARGS` on SwiftShader (e.g. `bin/ort-train.js …`), its output piped. */
export function spawnOnSwiftShader(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { env: swiftShaderEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for `child` (killed after `timeoutMs`) and collects its output. */
export function finished(child: ChildProcess, timeoutMs = 600_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `node --import tsx <script> ...args` on SwiftShader and collects its output. */
export const runOnSwiftShader = (script: string, args: string[] = [], timeoutMs?: number) =>
  finished(spawnOnSwiftShader(['--import', 'tsx', script, ...args]), timeoutMs);

/** The JSON a child printed as its last stdout line; a failed child's stderr explains why not. */
export async function childJson<T>(script: string, args: string[] = [], timeoutMs?: number): Promise<T> {
  const r = await runOnSwiftShader(script, args, timeoutMs);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{')) {
    const why = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
    throw new Error(`${script} ${why} on SwiftShader (${SWIFTSHADER_ICD}):\n${tail(r.stderr)}\n${tail(r.stdout)}`);
  }
  return JSON.parse(last) as T;
}

const tail = (s: string) => s.split('\n').filter((l) => l && !l.includes('XDG_RUNTIME_DIR')).slice(-15).join('\n');

/**
 * Whether the calling module is the process's entry script. The children guard their work with
 * it: `npm test -- webgpu` hands them to uvu too, which must load them without running them.
 */
export function isMain(moduleUrl: string): boolean {
  return !!process.argv[1] && moduleUrl === pathToFileURL(resolve(process.argv[1])).href;
}
