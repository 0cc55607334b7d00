"""Ways students write the blanks of 06_initialization: correct variants and real mistakes."""
from autograder.authoring.catalog import Variant


def normal_with(body: str, loop: str = "for module in net.modules():") -> str:
    """An init_linear_normal whose per-Linear body is ``body`` (indented for the loop)."""
    return f"""\
def init_linear_normal(net, std):
    {loop}
        if isinstance(module, nn.Linear):
{body}
    return net
"""


def xavier_with(body: str, loop: str = "for module in net.modules():") -> str:
    return f"""\
def init_xavier(net):
    {loop}
        if isinstance(module, nn.Linear):
{body}
    return net
"""


NORMAL_BODY = """\
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""

XAVIER_BODY = """\
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""

CORRECT = [
    # ------------------------------------------------------------------------------- set_weight_from_numpy
    Variant("set_weight_from_numpy", ".data assignment of a float32 tensor", """\
def set_weight_from_numpy(layer, array):
    layer.weight.data = torch.from_numpy(array).float()
    return layer
"""),
    Variant("set_weight_from_numpy", "slice assignment under no_grad", """\
def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        layer.weight[:] = torch.tensor(array, dtype=torch.float32)
    return layer
"""),
    Variant("set_weight_from_numpy", "copy_ into .data", """\
def set_weight_from_numpy(layer, array):
    layer.weight.data.copy_(torch.from_numpy(array))
    return layer
"""),
    Variant("set_weight_from_numpy", "as_tensor float32", """\
def set_weight_from_numpy(layer, array):
    new = torch.as_tensor(array, dtype=torch.float32)
    with torch.no_grad():
        layer.weight.copy_(new)
    return layer
"""),
    Variant("set_weight_from_numpy", "astype in NumPy first", """\
def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(array.astype("float32")))
    return layer
"""),
    # ------------------------------------------------------------------------------- init_linear_normal
    Variant("init_linear_normal", "net.apply", """\
def init_linear_normal(net, std):
    def init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.constant_(module.bias, 0.0)
    net.apply(init)
    return net
"""),
    Variant("init_linear_normal", "tensor methods under no_grad", normal_with("""\
            with torch.no_grad():
                module.weight.normal_(0, std)
                if module.bias is not None:
                    module.bias.zero_()""")),
    Variant("init_linear_normal", ".data methods", normal_with("""\
            module.weight.data.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.data.fill_(0)""")),
    Variant("init_linear_normal", "randn * std into .data", normal_with("""\
            module.weight.data = torch.randn_like(module.weight) * std
            if module.bias is not None:
                module.bias.data = torch.zeros_like(module.bias)""")),
    Variant("init_linear_normal", "copy_ of randn, getattr for the bias", normal_with("""\
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape) * std)
                if getattr(module, "bias", None) is not None:
                    module.bias.copy_(torch.zeros(module.out_features))""")),
    Variant("init_linear_normal", "named_modules", normal_with(NORMAL_BODY,
                                                               loop="for _, module in net.named_modules():")),
    # ------------------------------------------------------------------------------- init_xavier
    Variant("init_xavier", "nn.init.xavier_uniform_", xavier_with(XAVIER_BODY)),
    Variant("init_xavier", "net.apply with explicit gain 1", """\
def init_xavier(net):
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, gain=1.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net.apply(init)
"""),
    Variant("init_xavier", "bound from in/out_features", xavier_with("""\
            a = math.sqrt(6 / (module.in_features + module.out_features))
            with torch.no_grad():
                module.weight.uniform_(-a, a)
                if module.bias is not None:
                    module.bias.fill_(0.0)""")),
    Variant("init_xavier", "rand * 2a - a into .data", xavier_with("""\
            fan_out, fan_in = module.weight.shape
            a = (6 / (fan_in + fan_out)) ** 0.5
            module.weight.data = torch.rand_like(module.weight) * 2 * a - a
            if module.bias is not None:
                module.bias.data.zero_()""")),
    Variant("init_xavier", "size() bound, gain from calculate_gain('linear')", xavier_with("""\
            gain = nn.init.calculate_gain("linear")
            bound = gain * math.sqrt(6.0 / (module.weight.size(0) + module.weight.size(1)))
            nn.init.uniform_(module.weight, a=-bound, b=bound)
            if module.bias is not None:
                nn.init.zeros_(module.bias)""")),
]

MISTAKES = [
    # ------------------------------------------------------------------------------- set_weight_from_numpy
    Variant("set_weight_from_numpy", "new Parameter", """\
def set_weight_from_numpy(layer, array):
    layer.weight = nn.Parameter(torch.from_numpy(array).float())
    return layer
""", hint="new object"),
    Variant("set_weight_from_numpy", "float64 from torch.from_numpy", """\
def set_weight_from_numpy(layer, array):
    layer.weight.data = torch.from_numpy(array)
    return layer
""", hint="float64"),
    Variant("set_weight_from_numpy", "new float64 Parameter", """\
def set_weight_from_numpy(layer, array):
    layer.weight = nn.Parameter(torch.from_numpy(array))
    return layer
""", hint="from_numpy keeps NumPy's float64"),
    Variant("set_weight_from_numpy", "copy_ without no_grad", """\
def set_weight_from_numpy(layer, array):
    layer.weight.copy_(torch.from_numpy(array))
    return layer
""", hint="torch.no_grad()"),
    Variant("set_weight_from_numpy", "transposed", """\
def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(array.T.copy()).reshape(layer.weight.shape))
    return layer
""", hint="wrong places"),
    Variant("set_weight_from_numpy", "returns nothing", """\
def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(array))
""", hint="return layer"),
    Variant("set_weight_from_numpy", "weight frozen", """\
def set_weight_from_numpy(layer, array):
    layer.weight = nn.Parameter(torch.from_numpy(array).float(), requires_grad=False)
    return layer
""", hint="new object"),
    # ------------------------------------------------------------------------------- init_linear_normal
    Variant("init_linear_normal", "children() only", normal_with(NORMAL_BODY, loop="for module in net.children():"),
            hint="net.children() only yields"),
    Variant("init_linear_normal", "variance passed as std", normal_with("""\
            nn.init.normal_(module.weight, mean=0.0, std=std ** 2)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="variance"),
    Variant("init_linear_normal", "uniform on [-std, std]", normal_with("""\
            nn.init.uniform_(module.weight, -std, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="uniform samples on [-std, std]"),
    Variant("init_linear_normal", "uniform with the right std", normal_with("""\
            nn.init.uniform_(module.weight, -std * 3 ** 0.5, std * 3 ** 0.5)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="not uniform_"),
    Variant("init_linear_normal", "std passed as the mean", normal_with("""\
            nn.init.normal_(module.weight, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="passes std as the mean"),
    Variant("init_linear_normal", "bias left alone", normal_with("""\
            nn.init.normal_(module.weight, mean=0.0, std=std)"""), hint="bias values are not 0"),
    Variant("init_linear_normal", "crashes on bias=False", normal_with("""\
            nn.init.normal_(module.weight, mean=0.0, std=std)
            nn.init.zeros_(module.bias)"""), hint="bias=False"),
    Variant("init_linear_normal", "every module with a weight", """\
def init_linear_normal(net, std):
    for module in net.modules():
        if hasattr(module, "weight"):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net
""", hint="only nn.Linear layers"),
    Variant("init_linear_normal", "new Parameter objects", normal_with("""\
            module.weight = nn.Parameter(torch.randn_like(module.weight) * std)
            if module.bias is not None:
                module.bias = nn.Parameter(torch.zeros_like(module.bias))"""), hint="new Parameter objects"),
    Variant("init_linear_normal", "std ignored", normal_with("""\
            nn.init.normal_(module.weight, mean=0.0, std=0.01)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="standard deviation"),
    Variant("init_linear_normal", "initialises and returns a copy", """\
from copy import deepcopy


def init_linear_normal(net, std):
    new_net = deepcopy(net)
    for module in new_net.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return new_net
""", hint="returned another network"),
    Variant("init_linear_normal", "returns nothing", """\
def init_linear_normal(net, std):
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
""", hint="return net"),
    # ------------------------------------------------------------------------------- init_xavier
    Variant("init_xavier", "xavier_normal_", xavier_with("""\
            nn.init.xavier_normal_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="uniform"),
    Variant("init_xavier", "normal with the uniform bound as std", xavier_with("""\
            a = math.sqrt(6 / (module.in_features + module.out_features))
            nn.init.normal_(module.weight, 0.0, a / 3 ** 0.5)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="not a normal one"),
    Variant("init_xavier", "fan_in only", xavier_with("""\
            a = math.sqrt(3 / module.in_features)
            nn.init.uniform_(module.weight, -a, a)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="only fan_in"),
    Variant("init_xavier", "fan_in only, 6 / fan_in", xavier_with("""\
            a = math.sqrt(6 / module.in_features)
            nn.init.uniform_(module.weight, -a, a)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="only fan_in"),
    Variant("init_xavier", "ReLU gain", xavier_with("""\
            nn.init.xavier_uniform_(module.weight, gain=nn.init.calculate_gain("relu"))
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="gain"),
    Variant("init_xavier", "std of Xavier normal used as the bound", xavier_with("""\
            a = math.sqrt(2 / (module.in_features + module.out_features))
            nn.init.uniform_(module.weight, -a, a)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="std of Xavier normal"),
    Variant("init_xavier", "uniform_(w, a): positional bound", xavier_with("""\
            a = math.sqrt(6 / (module.in_features + module.out_features))
            nn.init.uniform_(module.weight, a)
            if module.bias is not None:
                nn.init.zeros_(module.bias)"""), hint="all the weights are >= 0"),
    Variant("init_xavier", "rand * a (only positive)", xavier_with("""\
            a = math.sqrt(6 / (module.in_features + module.out_features))
            with torch.no_grad():
                module.weight.copy_(torch.rand(module.weight.shape) * a)
                if module.bias is not None:
                    module.bias.zero_()"""), hint="all the weights are >= 0"),
    Variant("init_xavier", "builds a new network", """\
def init_xavier(net):
    layers = []
    for module in net.children():
        if isinstance(module, nn.Linear):
            new = nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
            nn.init.xavier_uniform_(new.weight)
            if new.bias is not None:
                nn.init.zeros_(new.bias)
            layers.append(new)
        else:
            layers.append(module)
    return nn.Sequential(*layers)
""", hint="unchanged"),
    Variant("init_xavier", "bias left alone", xavier_with("""\
            nn.init.xavier_uniform_(module.weight)"""), hint="bias values are not 0"),
    Variant("init_xavier", "crashes on bias=False", xavier_with("""\
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)"""), hint="bias=False"),
    Variant("init_xavier", "children() only", xavier_with(XAVIER_BODY, loop="for module in net.children():"),
            hint="net.modules()"),
    Variant("init_xavier", "every module with a 2-D weight", """\
def init_xavier(net):
    for module in net.modules():
        if hasattr(module, "weight") and module.weight.dim() >= 2:
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net
""", hint="only nn.Linear layers"),
    Variant("init_xavier", "new Parameter objects", xavier_with("""\
            a = math.sqrt(6 / (module.in_features + module.out_features))
            module.weight = nn.Parameter(torch.empty_like(module.weight).uniform_(-a, a))
            if module.bias is not None:
                module.bias = nn.Parameter(torch.zeros_like(module.bias))"""), hint="new Parameter objects"),
]
