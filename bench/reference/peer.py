# What the same-machine peer scripts (torch_cpu.py, ort_training.py) share: where the PyTorch
# reference model lives, the two bench configs, and the merged, atomically written results file.
import json, os, sys, time

CONFIGS = {'paper224_b8': dict(size=224, width=1.0, bs=8, head=4096), 'small112_b32': dict(size=112, width=0.25, bs=32, head=512)}


def _reference_dir():
    """shared/reference/ beside the checkout (or M2FN_TORCH_REFERENCE)."""
    if os.environ.get('M2FN_TORCH_REFERENCE'):
        return os.environ['M2FN_TORCH_REFERENCE']
    d = os.path.abspath(os.path.dirname(__file__))
    while d != os.path.dirname(d):
        d = os.path.dirname(d)
        if os.path.exists(os.path.join(d, 'shared', 'reference', 'm2fn_torch.py')):
            return os.path.join(d, 'shared', 'reference')
    sys.exit('cannot find shared/reference/m2fn_torch.py above this script; set M2FN_TORCH_REFERENCE')


def import_reference_path():
    """Puts the reference model's folder on sys.path, so `from m2fn_torch import M2FN` works."""
    sys.path.insert(0, _reference_dir())


def write_results(out_dir, file_name, results):
    """Merges with configs measured by an earlier call (one config per call keeps memory low)."""
    path = os.path.join(out_dir, file_name)
    merged = {**(json.load(open(path)) if os.path.exists(path) else {}), **results}
    with open(path + '.tmp', 'w') as f:
        json.dump(merged, f)
    os.replace(path + '.tmp', path)
    print(json.dumps(results))


def images_per_second(fn, bs, size):
    """Img/s of `fn` on a batch of `bs`: one warm-up call, then 3 timed calls at 224², 8 below."""
    n = 3 if size == 224 else 8
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return bs * n / (time.perf_counter() - t)
