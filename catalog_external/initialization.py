"""External catalog for 06_initialization: answers adapted from public code (see README.md)."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ------------------------------------------------------------------------------ set_weight_from_numpy
    Variant("set_weight_from_numpy", "Ackeraa/snake movie/assets/codes/nn_4.py (set_weights): "
            "torch.FloatTensor(weights) assigned to self.fc1.weight.data under torch.no_grad()", """
def set_weight_from_numpy(layer, array):
    weights = torch.FloatTensor(array)
    with torch.no_grad():
        layer.weight.data = weights.reshape(layer.weight.shape)
    return layer
"""),
    Variant("set_weight_from_numpy", "d2l-ai/d2l-en chapter_builders-guide/init-param.md: write through the "
            "parameter's data with slice assignment (net[0].weight.data[:] += 1)", """
def set_weight_from_numpy(layer, array):
    layer.weight.data[:] = torch.from_numpy(array)
    return layer
"""),
    # --------------------------------------------------------------------------------- init_linear_normal
    Variant("init_linear_normal", "rasbt/stat453-deep-learning-ss21 L11/code/weight_normal.ipynb: for m in self.modules(): "
            "isinstance Linear, m.weight.detach().normal_(0, 0.001), bias zeroed if not None", """
def init_linear_normal(net, std):
    for m in net.modules():
        if isinstance(m, torch.nn.Linear):
            m.weight.detach().normal_(0, std)
            if m.bias is not None:
                m.bias.detach().zero_()
    return net
"""),
    Variant("init_linear_normal", "huggingface/transformers src/transformers/models/bert/modeling_bert.py "
            "(BertPreTrainedModel._init_weights): weight.data.normal_(mean=0.0, std=...), bias zero if not None", """
def _init_weights(module, std):
    \"\"\"Initialize the weights\"\"\"
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(mean=0.0, std=std)
        if module.bias is not None:
            module.bias.data.zero_()

def init_linear_normal(net, std):
    for module in net.modules():
        _init_weights(module, std)
    return net
"""),
    # --------------------------------------------------------------------------------------- init_xavier
    Variant("init_xavier", "youngfly11/ReIR-WeaklyGrounding.pytorch detectron2/layers/ops.py (Linear): "
            "fan_avg = (in + out) / 2, bound = np.sqrt(3. / fan_avg), uniform_, bias 0 if not None", """
def init_xavier(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            # compatible with xavier_initializer in TensorFlow
            fan_avg = (m.in_features + m.out_features) / 2.
            bound = np.sqrt(3. / fan_avg)
            nn.init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.)
    return net
"""),
    Variant("init_xavier", "open-mmlab/mmcv mmcv/cnn/utils/weight_init.py (xavier_init) called with "
            "distribution='uniform', bias=0", """
def xavier_init(module, gain=1, bias=0, distribution='normal'):
    assert distribution in ['uniform', 'normal']
    if hasattr(module, 'weight') and module.weight is not None:
        if distribution == 'uniform':
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    if hasattr(module, 'bias') and module.bias is not None:
        nn.init.constant_(module.bias, bias)

def init_xavier(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            xavier_init(m, distribution='uniform')
    return net
"""),
]

MISTAKES = [
    # ------------------------------------------------------------------------------ set_weight_from_numpy
    Variant("set_weight_from_numpy", "AnanyaKumar/transfer_learning unlabeled_extrapolation/models/model_utils.py "
            "(set_linear_layer): layer.weight = Parameter(torch.tensor(coef, dtype=...)) (a new Parameter; "
            ".cuda() dropped)", """
def set_weight_from_numpy(layer, array):
    coef_tensor = torch.tensor(array, dtype=layer.weight.dtype)
    coef_param = torch.nn.parameter.Parameter(coef_tensor)
    layer.weight = coef_param
    return layer
"""),
    Variant("set_weight_from_numpy", "LengYuuu/PyTorchStudy_DeepLizard Episode2_4_test0.py: "
            "fc.weight = nn.Parameter(weight_matrix) (a new Parameter)", """
def set_weight_from_numpy(layer, array):
    weight_matrix = torch.tensor(array, dtype=torch.float32)
    layer.weight = nn.Parameter(weight_matrix)
    return layer
"""),
    # --------------------------------------------------------------------------------- init_linear_normal
    Variant("init_linear_normal", "d2l-ai/d2l-en chapter_builders-guide/init-param.md (init_normal): "
            "type(module) == nn.Linear, nn.init.zeros_(module.bias) with no None check, net.apply", """
def init_linear_normal(net, std):
    def init_normal(module):
        if type(module) == nn.Linear:
            nn.init.normal_(module.weight, mean=0, std=std)
            nn.init.zeros_(module.bias)

    net.apply(init_normal)
    return net
"""),
    Variant("init_linear_normal", "ShusenTang/Dive-into-DL-PyTorch docs/chapter04_DL_computation/4.2_parameters.md: "
            "named_parameters, 'weight' in name / 'bias' in name (touches every module type)", """
from torch.nn import init

def init_linear_normal(net, std):
    for name, param in net.named_parameters():
        if 'weight' in name:
            init.normal_(param, mean=0, std=std)
    for name, param in net.named_parameters():
        if 'bias' in name:
            init.constant_(param, val=0)
    return net
"""),
    Variant("init_linear_normal", "pytorch/tutorials beginner_source/dcgan_faces_tutorial.py (weights_init): "
            "classname.find(...) != -1, BatchNorm weights re-drawn around 1.0, Linear bias left as is", """
def init_linear_normal(net, std):
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Linear') != -1:
            nn.init.normal_(m.weight.data, 0.0, std)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    net.apply(weights_init)
    return net
"""),
    Variant("init_linear_normal", "huggingface/pytorch-image-models timm/models/vision_transformer.py (_init_weights): "
            "trunc_normal_(m.weight, std=...) (truncated at +-2, not N(0, std^2))", """
def init_linear_normal(net, std):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net
"""),
    # --------------------------------------------------------------------------------------- init_xavier
    Variant("init_xavier", "d2l-ai/d2l-en chapter_builders-guide/init-param.md (init_xavier): "
            "nn.init.xavier_uniform_(module.weight) only, bias untouched", """
def init_xavier(net):
    def init_xavier(module):
        if type(module) == nn.Linear:
            nn.init.xavier_uniform_(module.weight)

    net.apply(init_xavier)
    return net
"""),
    Variant("init_xavier", "Gleonett/multilayer-perceptron nn/init/xavier.py: W and b both uniform_(-dsp, dsp)", """
def xavier(n_in, n_out):
    dsp = np.sqrt(6 / (n_in + n_out))
    W = torch.rand((n_out, n_in)).uniform_(-dsp, dsp)
    b = torch.rand(n_out).uniform_(-dsp, dsp)
    return W, b

def init_xavier(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            W, b = xavier(m.in_features, m.out_features)
            with torch.no_grad():
                m.weight.copy_(W)
                if m.bias is not None:
                    m.bias.copy_(b)
    return net
"""),
    Variant("init_xavier", "sintefneodroid/agent utilities/initialisation/fan_in_init.py: "
            "uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))", """
from torch.nn import init

def fan_in_init(tensor):
    fan_in = tensor.size(1)
    v = 1.0 / np.sqrt(fan_in)
    init.uniform_(tensor, -v, v)

def init_xavier(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            fan_in_init(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net
"""),
    Variant("init_xavier", "open-mmlab/mmcv mmcv/cnn/utils/weight_init.py (xavier_init) with its default "
            "distribution='normal'", """
def xavier_init(module, gain=1, bias=0, distribution='normal'):
    assert distribution in ['uniform', 'normal']
    if hasattr(module, 'weight') and module.weight is not None:
        if distribution == 'uniform':
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    if hasattr(module, 'bias') and module.bias is not None:
        nn.init.constant_(module.bias, bias)

def init_xavier(net):
    for m in net.modules():
        if isinstance(m, nn.Linear):
            xavier_init(m)
    return net
"""),
]
