#!/usr/bin/env python3
"""Marks one version requirement of a shared library weak, so the loader tolerates its absence.

Why: libLibTorchSharp.so (TorchSharp 0.107.0, built with GCC 13) asks libstdc++ for GLIBCXX_3.4.32, while
Debian 12's libstdc++ stops at GLIBCXX_3.4.30. The only symbol bound to that version is
_ZSt21ios_base_library_initv, a marker GCC 13 emits with no relocation against it; nothing ever calls it.
With VER_FLG_WEAK on the requirement, ld.so loads the library and resolves every other symbol as usual
(see ../shared/docs/libtorch-judge.md, section 1). The layout used is the ELF64 gABI's .gnu.version_r:
Elf64_Verneed {vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32} followed by
Elf64_Vernaux {vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32}.

Usage: weak_version.py LIBRARY VERSION   (idempotent; exits 0 when the requirement is absent)
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path: str, version: str) -> int:
    with open(path, "r+b") as f:
        elf = bytearray(f.read())
        if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
            print(f"{path}: not a little-endian ELF64 file", file=sys.stderr)
            return 1
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
        changed = 0
        for sh_name, sh_type, _, _, offset, _, link, info, _, _ in sections:
            if sh_type != SHT_GNU_VERNEED:
                continue
            strings = sections[link][4]  # the linked .dynstr's file offset
            need = offset
            for _ in range(info):
                _, count, _, aux, next_need = struct.unpack_from("<HHIII", elf, need)
                entry = need + aux
                for _ in range(count):
                    _, flags, _, name, next_aux = struct.unpack_from("<IHHII", elf, entry)
                    end = elf.index(b"\0", strings + name)
                    if elf[strings + name:end].decode() == version and not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", elf, entry + 4, flags | VER_FLG_WEAK)
                        changed += 1
                    entry += next_aux
                need += next_need
        if changed:
            f.seek(0)
            f.write(elf)
        print(f"{path}: {version} marked weak in {changed} place(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
