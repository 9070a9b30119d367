# Same-machine reference for bench:infer / bench:train: PyTorch eager train and inference img/s of
# the paper's M2FN (../../../shared/reference/m2fn_torch.py), and its exported ONNX graph for
# onnxruntime-node to run (bench/reference/ort-torch-graph.ts). Works with Debian's python3-torch.
import inspect, resource, os, sys
from peer import CONFIGS, images_per_second, import_reference_path, write_results
import_reference_path()
import torch
from m2fn_torch import M2FN

torch.manual_seed(0)
torch.set_num_threads(int(os.environ.get('M2FN_THREADS', os.cpu_count())))
out_dir = sys.argv[1] if len(sys.argv) > 1 else '/tmp/m2fn-torch-ref'
os.makedirs(out_dir, exist_ok=True)
results = {}
for name in sys.argv[2:] or CONFIGS:
    c = CONFIGS[name]
    m = M2FN(width=c['width'], size=c['size'], head=c['head'])
    bs, size = c['bs'], c['size']
    x, a = torch.randn(bs, 3, size, size), torch.randn(bs, 2385)
    y, w = torch.rand(bs, 1), torch.rand(bs, 1)
    opt = torch.optim.Adam(m.parameters(), 1e-4)

    def step():
        loss = (w * (m(x, a) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    train = images_per_second(step, bs, size)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # the process's peak so far: the model and its training steps
    m.eval()
    with torch.no_grad():
        infer = images_per_second(lambda: m(x, a), bs, size)
    path = os.path.join(out_dir, f'{name}.onnx')
    torch.onnx.export(m, (x, a), path, input_names=['image', 'aux'], output_names=['ctr'], opset_version=17,
                      dynamic_axes={'image': {0: 'N'}, 'aux': {0: 'N'}, 'ctr': {0: 'N'}},
                      # PyTorch ≥ 2.9 defaults to the torch.export exporter (needs onnxscript); the
                      # TorchScript one exports this model as before and runs on PyTorch 1.13 too.
                      **({'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}))
    results[name] = dict(torch_train_img_s=round(train, 2), torch_infer_img_s=round(infer, 2), onnx=path, threads=torch.get_num_threads(), torch=torch.__version__, train_peak_rss_mb=peak_rss_mb)
    print(name, results[name], file=sys.stderr, flush=True)
write_results(out_dir, 'torch.json', results)
