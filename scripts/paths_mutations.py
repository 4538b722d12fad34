"""Mutation check of the harness.paths tests: each mutation breaks one rule of the path definition; the tests that
must catch it are listed by running this (every mutated file is restored afterwards, also on interrupt).

    python scripts/paths_mutations.py

Prints one line per mutation: how many tests failed and which. A mutation that no test catches prints 0.
"""

import os
import subprocess
import sys
from pathlib import Path

os.chdir(Path(__file__).resolve().parents[1])
M = [  # (name, file, text, mutated text)
    ('M1 canon: no rounding of non-integers', 'harness/paths/numbers.py',
     '    v = round(v, 2)\n',
     '    v = v\n'),
    ('M2 percent not /100 in completions', 'harness/paths/arith.py',
     'return float(tok[:-1]) / 100 if tok[-1] == "%"',
     'return float(tok[:-1]) if tok[-1] == "%"'),
    ('M3 no thousands separators', 'harness/paths/arith.py',
     '_NUM = r"(?:\\d{1,3}(?:,\\d{3})+(?!\\d|,\\d)|\\d++)',
     '_NUM = r"(?:\\d++)'),
    ('M4 no question-number filter', 'harness/paths/arith.py',
     'if exempt or c not in question_values:',
     'if True:'),
    ("M5 'times' not an operator", 'harness/paths/arith.py',
     '_OP = r" *(?:[-+*/^=x]|times|',
     '_OP = r" *(?:[-+*/^=x]|'),
    ('M6 unicode operators not mapped', 'harness/paths/numbers.py',
     '        for u, a in _UNICODE_PAIRS:',
     '        for u, a in ():'),
    ('M7 ARI without the chance term', 'harness/paths/agreement.py',
     '    expected = sum_a * sum_b / comb(n, 2)',
     '    expected = 0.0'),
    ('M8 no sympy canonical form', 'harness/paths/latex.py',
     '        return str(expr), None',
     '        return py, None'),
    ('M9 implicit intermediates dropped', 'harness/paths/arith.py',
     '    out.extend((val, k != "frac") for val, k in kids if k != "num" and k != "sum")',
     '    pass'),
    ('M10 question percentages not as fractions', 'harness/paths/numbers.py',
     '            vals.add(canon(v / 100))',
     '            pass'),
    ('M11 question number words ignored', 'harness/paths/numbers.py',
     '    for m in _WORD_NUMBER.finditer(text):',
     '    for m in ():'),
    ('M12 computed values not exempt', 'harness/paths/arith.py',
     '            if exempt or c not in question_values:',
     '            if c not in question_values:'),
    ('M13 markers not skipped', 'harness/paths/arith.py',
     '            if not _is_marker(text, m.start(), m.end()):',
     '            if True:'),
    ('M14 LaTeX \\frac not converted', 'harness/paths/numbers.py',
     '        new = _FRAC.sub(r"((\\1)/(\\2))", text)',
     '        new = text'),
    ('M15 MAX_CHARS cap removed (completion side)', 'harness/paths/__init__.py',
     '    raw = completion[:MAX_CHARS]',
     '    raw = completion'),
]
env = dict(os.environ, PYTHONPATH=os.getcwd(), HF_HUB_OFFLINE="1")
for name, path, old, new in M:  # noqa: B007
    src = open(path).read()
    if old not in src:
        print(name, "!! pattern not found")
        continue
    open(path, "w").write(src.replace(old, new, 1))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "tests/test_paths.py", "tests/test_paths_validation.py",
                            "-q", "-p", "no:cacheprovider"],
                           capture_output=True, text=True, env=env, timeout=280)
        failed = [l.split("::")[1].split(" ")[0] for l in r.stdout.splitlines() if l.startswith("FAILED")]
        print(f"{name}: {len(failed)} failed: {', '.join(sorted(set(f.split('[')[0] for f in failed)))[:400]}")
    except subprocess.TimeoutExpired:
        print(name, "TIMEOUT")
    finally:
        open(path, "w").write(src)
