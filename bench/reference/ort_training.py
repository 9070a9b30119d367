# Same-machine training peer for bench:train: ONNX Runtime's own training build
# (onnxruntime-training, CPU) on the PyTorch reference M2FN (../../../shared/reference/m2fn_torch.py).
# The model is exported by PyTorch in training mode, onnxruntime.training.artifacts.generate_artifacts
# adds the loss, the gradient graph (ORT's gradient builder: its ConvGrad, ReluGrad… kernels) and AdamW,
# and onnxruntime.training.api runs the steps. Writes <out>/ort_training.json:
#   { config: { train_img_s, onnxruntime, torch, loss, optimizer, threads } }
# Needs: onnxruntime-training-cpu (1.19.2), onnx, torch (only to build and export the reference model).
# The loss is ORT's built-in MSE (unweighted) where ours is impression-weighted: the same cost.
import os, resource, sys, tempfile
from peer import CONFIGS, images_per_second, import_reference_path, write_results
import_reference_path()
import numpy as np
import onnx
import onnxruntime
import torch
from onnxruntime.training import artifacts
from onnxruntime.training.api import CheckpointState, Module, Optimizer
from m2fn_torch import M2FN

torch.manual_seed(0)
onnxruntime.set_default_logger_severity(3)  # generate_artifacts logs every graph transformer at info level
threads = int(os.environ.get('M2FN_THREADS', os.cpu_count()))
out_dir = sys.argv[1] if len(sys.argv) > 1 else '/tmp/m2fn-torch-ref'
os.makedirs(out_dir, exist_ok=True)
results = {}
for name in sys.argv[2:] or CONFIGS:
    c = CONFIGS[name]
    bs, size = c['bs'], c['size']
    m = M2FN(width=c['width'], size=size, head=c['head'])
    x, a = torch.randn(bs, 3, size, size), torch.randn(bs, 2385)
    work = tempfile.mkdtemp(prefix=f'm2fn-ort-training-{name}-')
    forward = os.path.join(work, 'forward.onnx')
    torch.onnx.export(m, (x, a), forward, input_names=['image', 'aux'], output_names=['ctr'], opset_version=17, export_params=True,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.TRAINING, dynamo=False)
    model = onnx.load(forward)
    params = {n for n, _ in m.named_parameters()}
    inits = [t.name for t in model.graph.initializer]
    requires_grad = [n for n in inits if n in params]
    frozen = [n for n in inits if n not in params]
    artifacts.generate_artifacts(model, requires_grad=requires_grad, frozen_params=frozen, loss=artifacts.LossType.MSELoss,
                                 optimizer=artifacts.OptimType.AdamW, artifact_directory=work)
    state = CheckpointState.load_checkpoint(os.path.join(work, 'checkpoint'))
    # No eval model: exported in training mode, its batch norms keep their extra outputs, which
    # ORT's inference-mode BatchNormalization refuses; only training steps are measured anyway.
    module = Module(os.path.join(work, 'training_model.onnx'), state, None, device='cpu')
    opt = Optimizer(os.path.join(work, 'optimizer_model.onnx'), module)
    opt.set_learning_rate(1e-4)
    module.train()
    xn, an, yn = x.numpy(), a.numpy(), np.random.rand(bs, 1).astype(np.float32)

    def step():
        module(xn, an, yn)
        opt.step()
        module.lazy_reset_grad()

    train = images_per_second(step, bs, size)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # the process's peak so far: model, export, artifacts and training steps
    results[name] = dict(train_img_s=round(train, 2), onnxruntime=onnxruntime.__version__, torch=torch.__version__, loss='MSE', optimizer='AdamW',
                         threads=threads, requires_grad=len(requires_grad), train_peak_rss_mb=peak_rss_mb)
    print(name, results[name], file=sys.stderr, flush=True)
write_results(out_dir, 'ort_training.json', results)
