"""Whether a change to CUDA source changed the machine code: builds FILE.cu as a cubin from the tree at
REV (default HEAD), and FILE.cu (or the --after files, where its kernels went) from the working
tree, with the same nvcc flags, and compares every kernel's code byte for byte, and its
relocations, .nv.info attributes, constant bank and shared memory with symbol indices read as the
symbols' names (two files' symbol tables number them differently).

For refactoring tuned kernels without a GPU: a change whose sections are identical runs the same
instructions, so timings measured before it still hold. Line tables and debug sections are left out
(they move with the source lines), as is the module's reserved shared memory (.nv.shared.reserved).
Anonymous namespaces are set aside (nvcc names them after the file), and --rename OLD=NEW (a
regular expression and its replacement, on the base's names) matches a kernel whose name changed,
e.g. a template parameter dropped.

  python3 tools/run_tool.py cubin_diff kernels/consumer.cu [--after A.cu B.cu] [--base REV]
      [--rename REGEX=REPLACEMENT ...] [--arch sm_90] [-- NVCC_FLAGS...]

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

CODE_PREFIXES = (".text.", ".rel", ".nv.info", ".nv.constant0.", ".nv.shared.", ".nv.global")
DEBUG_PREFIXES = (".rel.debug", ".rela.debug", ".rel.nv_debug", ".rela.nv_debug", ".nv.shared.reserved")
SHT_RELA, SHT_NOBITS, SHT_REL = 4, 8, 9
# .nv.info attributes whose value starts with a symbol index: PARAM_CBANK, FRAME_SIZE, MIN_STACK_SIZE,
# CRS_STACK_SIZE, MAX_STACK_SIZE, REGCOUNT.
SYMBOL_ATTRS = {0x0A, 0x11, 0x12, 0x1E, 0x23, 0x2F}


class input_error(Exception):
    pass


def elf(data, what):
    """(sections: [(name, type, bytes, size)], symbols: [name]) of a little-endian ELF64 file; a
    section symbol is named after its section."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise input_error(f"{what} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        raise input_error(f"{what}: its section table lies outside the file")
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + k * shentsize) for k in range(shnum)]

    def name_at(table, offset):
        start = headers[table][4] + offset
        return data[start:data.index(b"\0", start)].decode()

    sections = []
    for name, kind, _, _, offset, size, *_ in headers:
        sections.append((name_at(shstrndx, name), kind, b"" if kind == SHT_NOBITS else data[offset:offset + size], size))
    symbols = []
    for k, (_, kind, _, _, offset, size, link, *_rest) in enumerate(headers):
        if kind != 2:  # SHT_SYMTAB
            continue
        for at in range(offset, offset + size, 24):
            st_name, st_info, _, st_shndx = struct.unpack_from("<IBBH", data, at)
            section_symbol = st_info & 0xF == 3
            symbols.append(sections[st_shndx][0] if section_symbol and st_shndx < len(sections) else name_at(link, st_name))
    return sections, symbols


def elf_sections(data, what):
    """{name: bytes} of a little-endian ELF64 file's sections (NOBITS ones as b'')."""
    return {name: body for name, _, body, _ in elf(data, what)[0]}


# nvcc names an anonymous namespace after the source file and a hash of its path: set aside, the
# rest of the name is the kernel's.
ANON_NAMESPACE = re.compile(r"\d+_GLOBAL__N__[0-9a-f]+_\d+_\w+?_[0-9a-f]{8}(?=\d)|_GLOBAL__N__[0-9a-f]+_")


# ... and numbers its internal helpers (division, remainder) in the order a module first needs them.
INTERNAL_HELPER = re.compile(r"\$__internal_\d+_")


def normalize(name, renames):
    name = INTERNAL_HELPER.sub("$__internal_", ANON_NAMESPACE.sub("_GLOBAL__N_", name))
    for pattern, replacement in renames:
        name = pattern.sub(replacement, name)
    return name


def symbol_name(symbols, index, renames):
    return normalize(symbols[index], renames) if index < len(symbols) else f"#{index}"


def relocations(body, kind, symbols, renames):
    step = 24 if kind == SHT_RELA else 16
    out = []
    for at in range(0, len(body) - step + 1, step):
        offset, info = struct.unpack_from("<QQ", body, at)
        addend = struct.unpack_from("<q", body, at + 16)[0] if kind == SHT_RELA else 0
        out.append((offset, info & 0xFFFFFFFF, symbol_name(symbols, info >> 32, renames), addend))
    return tuple(out)


def nv_info(body, symbols, renames):
    """The attributes of an .nv.info section, a symbol index read as its name."""
    out, at = [], 0
    while at + 4 <= len(body):
        fmt, attr, value = body[at], body[at + 1], body[at + 2:at + 4]
        if fmt != 0x04:  # no value, a byte or a half-word: four bytes in all
            out.append((attr, value))
            at += 4
            continue
        size, = struct.unpack_from("<H", body, at + 2)
        payload = body[at + 4:at + 4 + size]
        if attr in SYMBOL_ATTRS and len(payload) >= 4:
            out.append((attr, symbol_name(symbols, struct.unpack_from("<I", payload)[0], renames), payload[4:]))
        else:
            out.append((attr, payload))
        at += 4 + size
    return out


def code_sections(cubins, renames=()):
    """{normalized name: comparable content} of the kernels' sections of one or more cubins
    ([(bytes, what)]); the module-wide .nv.info of several files is one multiset of attributes."""
    out = {}
    for data, what in cubins:
        sections, symbols = elf(data, what)
        for name, kind, body, size in sections:
            if not name.startswith(CODE_PREFIXES) or name.startswith(DEBUG_PREFIXES):
                continue
            key = normalize(name, renames)
            if kind in (SHT_REL, SHT_RELA):
                content = relocations(body, kind, symbols, renames)
            elif name.startswith(".nv.info"):
                content = nv_info(body, symbols, renames)
            elif kind == SHT_NOBITS:
                content = ("NOBITS", size)
            else:
                content = body
            if key == ".nv.info":  # per-function attributes once each, the module's once in all
                per_function = [r for r in content if len(r) == 3]
                module = {r for r in content if len(r) != 3} | set(r for r in out.get(key, ()) if len(r) != 3)
                both = [r for r in out.get(key, ()) if len(r) == 3] + per_function
                out[key] = tuple(sorted(both, key=repr)) + tuple(sorted(module, key=repr))
                continue
            if key in out:
                raise input_error(f"{what}: two sections are named {key} once their anonymous namespaces are set aside")
            out[key] = content if not isinstance(content, list) else tuple(content)
    return out


def compare(a, b):
    """(identical names, [(name, why)]) of two {name: content} maps."""
    same, differ = [], []
    for n in sorted(set(a) | set(b)):
        if n not in a:
            differ.append((n, "only after"))
        elif n not in b:
            differ.append((n, "only before"))
        elif a[n] != b[n]:
            if isinstance(a[n], tuple) and a[n][:1] == ("NOBITS",):
                differ.append((n, f"{a[n][1]} -> {b[n][1]} bytes allocated, no content"))
            elif len(a[n]) != len(b[n]):
                differ.append((n, f"{len(a[n])} -> {len(b[n])} entries" if isinstance(a[n], tuple) else f"{len(a[n])} -> {len(b[n])} bytes"))
            else:
                differ.append((n, f"{len(a[n])} {'entries' if isinstance(a[n], tuple) else 'bytes'}, changed"))
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


def parse_renames(items):
    out = []
    for item in items:
        pattern, sep, replacement = item.partition("=")
        if not sep or not pattern:
            raise input_error(f"--rename takes REGEX=REPLACEMENT (got '{item}')")
        try:
            out.append((re.compile(pattern), replacement))
        except re.error as e:
            raise input_error(f"--rename '{item}': {e}") from None
    return out


def main(argv):
    ap = argparse.ArgumentParser(prog="cubin_diff", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a .cu file, relative to the repository root")
    ap.add_argument("--after", nargs="+", help="the working tree's files that hold its kernels now (default: the same file)")
    ap.add_argument("--base", default="HEAD", help="the revision to compare with (default HEAD)")
    ap.add_argument("--rename", action="append", default=[], help="REGEX=REPLACEMENT on the base's section names")
    ap.add_argument("--arch", default="sm_90", help="nvcc -arch (default sm_90)")
    ap.add_argument("flags", nargs="*", help="more nvcc flags, after --")
    args = ap.parse_args(argv)
    nvcc = shutil.which("nvcc") or (os.path.exists("/usr/local/cuda/bin/nvcc") and "/usr/local/cuda/bin/nvcc")
    after_files = args.after or [args.source]
    try:
        renames = parse_renames(args.rename)
        if not nvcc:
            raise input_error("nvcc is not on PATH (nor /usr/local/cuda/bin)")
        with tempfile.TemporaryDirectory() as tmp:
            base_root = os.path.join(tmp, "base")
            os.mkdir(base_root)
            root = tree_at(args.base, base_root)
            if not os.path.isfile(os.path.join(base_root, args.source)):
                raise input_error(f"{args.source} is not in {args.base}")
            for f in after_files:
                if not os.path.isfile(os.path.join(root, f)):
                    raise input_error(f"{f} is not in the working tree")
            what = f"{args.source} at {args.base}"
            before = code_sections([(build(nvcc, base_root, args.source, args.arch, args.flags,
                                           os.path.join(tmp, "before.cubin")), what)], renames)
            after = code_sections([(build(nvcc, root, f, args.arch, args.flags, os.path.join(tmp, f"after{k}.cubin")), f)
                                   for k, f in enumerate(after_files)])
    except input_error as e:
        print(f"cubin_diff: error: {e}", file=sys.stderr)
        return 2
    same, differ = compare(before, after)
    for name, why in differ:
        print(f"differs: {name} ({why})")
    print(f"cubin_diff {args.source} ({args.arch}) against {args.base}, after {' '.join(after_files)}: {len(same)} "
          f"sections identical, {len(differ)} differ")
    return 1 if differ else 0
