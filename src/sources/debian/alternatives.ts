/**
 * The update-alternatives links that Debian packages' postinst scripts register, for the
 * common names. Each alternative lists its candidates with their packages and priorities as
 * Debian 12 ships them (usr-merged paths); the highest-priority candidate whose package is in
 * the image wins, which is what `update-alternatives --install` in auto mode leads to.
 */
export interface Alternative {
  readonly name: string;
  readonly link: string;
  readonly candidates: ReadonlyArray<{ readonly package: string; readonly path: string; readonly priority: number }>;
}

export const ALTERNATIVES: readonly Alternative[] = [
  { name: 'awk', link: '/usr/bin/awk', candidates: [{ package: 'gawk', path: '/usr/bin/gawk', priority: 10 }, { package: 'mawk', path: '/usr/bin/mawk', priority: 5 }, { package: 'original-awk', path: '/usr/bin/original-awk', priority: 0 }] },
  { name: 'nawk', link: '/usr/bin/nawk', candidates: [{ package: 'gawk', path: '/usr/bin/gawk', priority: 10 }, { package: 'mawk', path: '/usr/bin/mawk', priority: 5 }, { package: 'original-awk', path: '/usr/bin/original-awk', priority: 0 }] },
  {
    name: 'editor',
    link: '/usr/bin/editor',
    candidates: [
      { package: 'nano', path: '/usr/bin/nano', priority: 40 },
      { package: 'vim', path: '/usr/bin/vim.basic', priority: 30 },
      { package: 'vim-tiny', path: '/usr/bin/vim.tiny', priority: 15 },
      { package: 'ed', path: '/usr/bin/ed', priority: -100 },
    ],
  },
  { name: 'vi', link: '/usr/bin/vi', candidates: [{ package: 'vim', path: '/usr/bin/vim.basic', priority: 30 }, { package: 'vim-tiny', path: '/usr/bin/vim.tiny', priority: 15 }, { package: 'nvi', path: '/usr/bin/nvi', priority: 0 }] },
  { name: 'vim', link: '/usr/bin/vim', candidates: [{ package: 'vim', path: '/usr/bin/vim.basic', priority: 30 }] },
  { name: 'pico', link: '/usr/bin/pico', candidates: [{ package: 'nano', path: '/usr/bin/nano', priority: 10 }] },
  { name: 'pager', link: '/usr/bin/pager', candidates: [{ package: 'less', path: '/usr/bin/less', priority: 77 }, { package: 'util-linux', path: '/usr/bin/more', priority: 50 }] },
  { name: 'cc', link: '/usr/bin/cc', candidates: [{ package: 'gcc', path: '/usr/bin/gcc', priority: 20 }, { package: 'clang', path: '/usr/bin/clang', priority: 10 }] },
  { name: 'c++', link: '/usr/bin/c++', candidates: [{ package: 'g++', path: '/usr/bin/g++', priority: 20 }, { package: 'clang', path: '/usr/bin/clang++', priority: 10 }] },
  { name: 'cpp', link: '/usr/bin/cpp', candidates: [{ package: 'cpp', path: '/usr/bin/cpp', priority: 10 }] },
  { name: 'nc', link: '/usr/bin/nc', candidates: [{ package: 'netcat-openbsd', path: '/usr/bin/nc.openbsd', priority: 50 }, { package: 'netcat-traditional', path: '/usr/bin/nc.traditional', priority: 10 }] },
  { name: 'lzma', link: '/usr/bin/lzma', candidates: [{ package: 'xz-utils', path: '/usr/bin/xz', priority: 20 }] },
  { name: 'rmt', link: '/usr/sbin/rmt', candidates: [{ package: 'tar', path: '/usr/sbin/rmt-tar', priority: 50 }] },
  { name: 'rename', link: '/usr/bin/rename', candidates: [{ package: 'rename', path: '/usr/bin/file-rename', priority: 0 }] },
  { name: 'fakeroot', link: '/usr/bin/fakeroot', candidates: [{ package: 'fakeroot', path: '/usr/bin/fakeroot-sysv', priority: 50 }] },
];

/** Each alternative whose candidates are in the image, with the chosen target (name order). */
export function chooseAlternatives(packages: ReadonlySet<string>): Array<{ readonly name: string; readonly link: string; readonly target: string }> {
  const chosen: Array<{ name: string; link: string; target: string }> = [];
  for (const alternative of ALTERNATIVES) {
    const present = alternative.candidates.filter((candidate) => packages.has(candidate.package));
    const best = present.sort((a, b) => b.priority - a.priority)[0];
    if (best) chosen.push({ name: alternative.name, link: alternative.link, target: best.path });
  }
  return chosen.sort((a, b) => (a.name < b.name ? -1 : 1));
}
