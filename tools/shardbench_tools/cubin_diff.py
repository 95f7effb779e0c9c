"""Whether a change to CUDA source changed the machine code: builds FILE.cu as a cubin from the tree at
REV (default HEAD) and from the working tree, with the same nvcc flags, and compares every kernel's
code, relocations, .nv.info and constant-bank sections byte for byte.

For refactoring tuned kernels without a GPU: a change whose cubin sections are identical runs the
same instructions, so timings measured before it still hold. Line tables and debug sections are
left out (they move with the source lines).

  python3 tools/run_tool.py cubin_diff kernels/consumer.cu [--base REV] [--arch sm_90] [-- NVCC_FLAGS...]

Exit 0 when every compared section is identical, 1 when one differs (each is named), 2 on bad
input (one `cubin_diff: error:` line): no nvcc, a file or revision git does not have, a build that
fails, an output that is not an ELF cubin."""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

CODE_PREFIXES = (".text.", ".rel", ".nv.info.", ".nv.constant0.", ".nv.shared.", ".nv.global")
DEBUG_PREFIXES = (".rel.debug", ".rela.debug", ".rel.nv_debug", ".rela.nv_debug")


class input_error(Exception):
    pass


def elf_sections(data, what):
    """{name: bytes} of a little-endian ELF64 file's sections (NOBITS ones as b'')."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise input_error(f"{what} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        raise input_error(f"{what}: its section table lies outside the file")
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + k * shentsize) for k in range(shnum)]
    names_at = headers[shstrndx][4]
    out = {}
    for name, kind, _, _, offset, size, *_ in headers:
        end = data.index(b"\0", names_at + name)
        out[data[names_at + name:end].decode()] = b"" if kind == 8 else data[offset:offset + size]  # 8: NOBITS
    return out


# nvcc names an anonymous namespace after a hash of the source file's path, which differs between
# the two trees; the rest of the name is the kernel's.
ANON_NAMESPACE = re.compile(r"_GLOBAL__N__[0-9a-f]+_")


def code_sections(sections, what):
    out = {}
    for n, b in sections.items():
        if n.startswith(CODE_PREFIXES) and not n.startswith(DEBUG_PREFIXES):
            key = ANON_NAMESPACE.sub("_GLOBAL__N__", n)
            if key in out:
                raise input_error(f"{what}: two sections are named {key} once their anonymous namespaces are set aside")
            out[key] = b
    return out


def compare(a, b):
    """(identical names, [(name, why)]) of two {name: bytes} maps."""
    same, differ = [], []
    for n in sorted(set(a) | set(b)):
        if n not in a:
            differ.append((n, "only after"))
        elif n not in b:
            differ.append((n, "only before"))
        elif a[n] != b[n]:
            differ.append((n, f"{len(a[n])} -> {len(b[n])} bytes" if len(a[n]) != len(b[n]) else f"{len(a[n])} bytes, changed"))
        else:
            same.append(n)
    return same, differ


def build(nvcc, root, source, arch, flags, out):
    cmd = [nvcc, "-cubin", f"-arch={arch}", "-O3", "-std=c++20", "--expt-relaxed-constexpr", f"-I{root}", *flags,
           os.path.join(root, source), "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise input_error(f"nvcc failed on {source} in {root}: {last}")
    with open(out, "rb") as f:
        return f.read()


def tree_at(rev, into):
    """The repository's files at rev, written under into."""
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode != 0:
        raise input_error("not inside a git checkout")
    archive = subprocess.run(["git", "-C", top.stdout.strip(), "archive", "--format=tar", rev], capture_output=True)
    if archive.returncode != 0:
        raise input_error(f"git has no revision '{rev}'")
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)
    return top.stdout.strip()


def main(argv):
    ap = argparse.ArgumentParser(prog="cubin_diff", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a .cu file, relative to the repository root")
    ap.add_argument("--base", default="HEAD", help="the revision to compare with (default HEAD)")
    ap.add_argument("--arch", default="sm_90", help="nvcc -arch (default sm_90)")
    ap.add_argument("flags", nargs="*", help="more nvcc flags, after --")
    args = ap.parse_args(argv)
    nvcc = shutil.which("nvcc") or (os.path.exists("/usr/local/cuda/bin/nvcc") and "/usr/local/cuda/bin/nvcc")
    try:
        if not nvcc:
            raise input_error("nvcc is not on PATH (nor /usr/local/cuda/bin)")
        with tempfile.TemporaryDirectory() as tmp:
            base_root = os.path.join(tmp, "base")
            os.mkdir(base_root)
            root = tree_at(args.base, base_root)
            for where, label in ((base_root, args.base), (root, "the working tree")):
                if not os.path.isfile(os.path.join(where, args.source)):
                    raise input_error(f"{args.source} is not in {label}")
            what = f"{args.source} at {args.base}"
            before = code_sections(elf_sections(build(nvcc, base_root, args.source, args.arch, args.flags,
                                                      os.path.join(tmp, "before.cubin")), what), what)
            after = code_sections(elf_sections(build(nvcc, root, args.source, args.arch, args.flags,
                                                     os.path.join(tmp, "after.cubin")), args.source), args.source)
    except input_error as e:
        print(f"cubin_diff: error: {e}", file=sys.stderr)
        return 2
    same, differ = compare(before, after)
    for name, why in differ:
        print(f"differs: {name} ({why})")
    print(f"cubin_diff {args.source} ({args.arch}) against {args.base}: {len(same)} sections identical, "
          f"{len(differ)} differ")
    return 1 if differ else 0
