"""Ways students write the blanks of 04_modules: correct variants and real mistakes."""
from autograder.authoring.catalog import Variant


def two_branch(forward: str, init: str | None = None) -> str:
    """The TwoBranchNet cell with ``forward``'s body (and optionally another ``__init__`` body)."""
    init = init or """\
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))"""
    return f"""\
class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
{init}

    def forward(self, x):
{forward}
"""


CORRECT = [
    # ------------------------------------------------------------------------------------ make_seq_net
    Variant("make_seq_net", "list unpacked", """\
def make_seq_net(n_in, n_hidden, n_out):
    layers = [nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out)]
    return nn.Sequential(*layers)
"""),
    Variant("make_seq_net", "add_module with positions", """\
def make_seq_net(n_in, n_hidden, n_out):
    net = nn.Sequential()
    net.add_module("0", nn.Linear(n_in, n_hidden))
    net.add_module("1", nn.Tanh())
    net.add_module("2", nn.Linear(n_hidden, n_out))
    return net
"""),
    Variant("make_seq_net", "OrderedDict with positional names", """\
from collections import OrderedDict

def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(OrderedDict([("0", nn.Linear(n_in, n_hidden)), ("1", nn.Tanh()),
                                      ("2", nn.Linear(n_hidden, n_out))]))
"""),
    Variant("make_seq_net", "append", """\
def make_seq_net(n_in, n_hidden, n_out):
    net = nn.Sequential()
    net.append(nn.Linear(n_in, n_hidden))
    net.append(nn.Tanh())
    net.append(nn.Linear(n_hidden, n_out))
    return net
"""),
    Variant("make_seq_net", "keyword arguments", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(in_features=n_in, out_features=n_hidden, bias=True), nn.Tanh(),
                         nn.Linear(in_features=n_hidden, out_features=n_out))
"""),
    # ------------------------------------------------------------------------------------ TwoBranchNet
    Variant("TwoBranchNet", "branches in the other order", two_branch("        return self.layer2(x) + self.layer1(x)")),
    Variant("TwoBranchNet", "torch.add", two_branch("        return torch.add(self.layer1(x), self.layer2(x))")),
    Variant("TwoBranchNet", "named intermediate results", two_branch("""\
        out1 = self.layer1(x)
        out2 = self.layer2(x)
        out = out1 + out2
        return out""")),
    Variant("TwoBranchNet", "in-place add on an intermediate", two_branch("""\
        out = self.layer1(x)
        out += self.layer2(x)
        return out""")),
    Variant("TwoBranchNet", "layer2 applied step by step", two_branch("""\
        h = self.layer2[0](x)
        h = torch.relu(h)
        return self.layer1(x) + self.layer2[2](h)""")),
    Variant("TwoBranchNet", "sum over the branches", two_branch(
        "        return sum(branch(x) for branch in (self.layer1, self.layer2))")),
    Variant("TwoBranchNet", "stack and sum", two_branch(
        "        return torch.stack([self.layer1(x), self.layer2(x)]).sum(dim=0)")),
    # ------------------------------------------------------------------------------------ save_weights
    Variant("save_weights", "plain dict copy", """\
def save_weights(net, path):
    torch.save(dict(net.state_dict()), path)
"""),
    Variant("save_weights", "cloned tensors", """\
def save_weights(net, path):
    state = {name: tensor.detach().clone() for name, tensor in net.state_dict().items()}
    torch.save(state, path)
"""),
    Variant("save_weights", "open file", """\
def save_weights(net, path):
    with open(path, "wb") as f:
        torch.save(net.state_dict(), f)
"""),
    Variant("save_weights", "returns the path", """\
def save_weights(net, path):
    torch.save(net.state_dict(), path)
    return path
"""),
    # ------------------------------------------------------------------------------------ load_weights
    Variant("load_weights", "two steps", """\
def load_weights(net, path):
    state = torch.load(path, weights_only=True)
    net.load_state_dict(state)
    return net
"""),
    Variant("load_weights", "map_location", """\
def load_weights(net, path):
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net
"""),
    Variant("load_weights", "default weights_only (True since torch 2.6)", """\
def load_weights(net, path):
    net.load_state_dict(torch.load(path))
    return net
"""),
    Variant("load_weights", "open file, strict", """\
def load_weights(net, path):
    with open(path, "rb") as f:
        state = torch.load(f, weights_only=True)
    net.load_state_dict(state, strict=True)
    return net
"""),
    Variant("load_weights", "copy each tensor in place", """\
def load_weights(net, path):
    state = torch.load(path, weights_only=True)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            tensor.copy_(state[name])
    return net
"""),
]

MISTAKES = [
    # ------------------------------------------------------------------------------------ make_seq_net
    Variant("make_seq_net", "ReLU instead of Tanh", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))
""", hint="must be Tanh"),
    Variant("make_seq_net", "Sigmoid instead of Tanh", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_out))
""", hint="not Tanh (this is Sigmoid)"),
    Variant("make_seq_net", "missing activation", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out))
""", hint="activation between the two Linear layers is missing"),
    Variant("make_seq_net", "missing bias", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden, bias=False), nn.Tanh(), nn.Linear(n_hidden, n_out, bias=False))
""", hint="without its bias"),
    Variant("make_seq_net", "named layers", """\
from collections import OrderedDict

def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(n_in, n_hidden), act=nn.Tanh(), fc2=nn.Linear(n_hidden, n_out)))
""", hint="no OrderedDict names"),
    Variant("make_seq_net", "fixed sizes", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(3, 7), nn.Tanh(), nn.Linear(7, 2))
""", hint="not from fixed numbers"),
    Variant("make_seq_net", "sizes swapped", """\
def make_seq_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_out), nn.Tanh(), nn.Linear(n_out, n_hidden))
""", hint="wrong sizes"),
    Variant("make_seq_net", "a list, not a Sequential", """\
def make_seq_net(n_in, n_hidden, n_out):
    return [nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out)]
""", hint="wrap the layers in nn.Sequential"),
    # ------------------------------------------------------------------------------------ TwoBranchNet
    Variant("TwoBranchNet", "layer1 only", two_branch("        return self.layer1(x)"), hint="layer1(x) only"),
    Variant("TwoBranchNet", "layer2 only", two_branch("        return self.layer2(x)"), hint="layer2(x) only"),
    Variant("TwoBranchNet", "product of the branches", two_branch("        return self.layer1(x) * self.layer2(x)"),
            hint="multiplied the branches"),
    Variant("TwoBranchNet", "concatenated branches",
            two_branch("        return torch.cat([self.layer1(x), self.layer2(x)], dim=-1)"), hint="concatenated"),
    Variant("TwoBranchNet", "ReLU skipped in forward", two_branch(
        "        return self.layer1(x) + self.layer2[2](self.layer2[0](x))"), hint="ReLU is missing"),
    Variant("TwoBranchNet", "Tanh instead of ReLU in __init__", two_branch(
        "        return self.layer1(x) + self.layer2(x)", init="""\
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out))"""),
            hint="not ReLU"),
    Variant("TwoBranchNet", "layer1 without bias", two_branch(
        "        return self.layer1(x) + self.layer2(x)", init="""\
        self.layer1 = nn.Linear(n_in, n_out, bias=False)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))"""),
            hint="without its bias"),
    Variant("TwoBranchNet", "forward under no_grad", two_branch("""\
        with torch.no_grad():
            return self.layer1(x) + self.layer2(x)"""), hint="does not require grad"),
    Variant("TwoBranchNet", "detached output", two_branch("        return (self.layer1(x) + self.layer2(x)).detach()"),
            hint="does not require grad"),
    # ------------------------------------------------------------------------------------ save_weights
    Variant("save_weights", "whole module", """\
def save_weights(net, path):
    torch.save(net, path)
""", hint="save net.state_dict() instead"),
    Variant("save_weights", "state_dict method not called", """\
def save_weights(net, path):
    torch.save(net.state_dict, path)
""", hint="call it, torch.save(net.state_dict(), path)"),
    Variant("save_weights", "list of parameters", """\
def save_weights(net, path):
    torch.save([p.detach() for p in net.parameters()], path)
""", hint="a list of the parameters has no names"),
    Variant("save_weights", "named_parameters only", """\
def save_weights(net, path):
    torch.save({name: p.detach() for name, p in net.named_parameters()}, path)
""", hint="buffers"),
    Variant("save_weights", "fixed file name", """\
def save_weights(net, path):
    torch.save(net.state_dict(), "weights.pt")
""", hint="not to a fixed file name"),
    # ------------------------------------------------------------------------------------ load_weights
    Variant("load_weights", "returns the load report", """\
def load_weights(net, path):
    return net.load_state_dict(torch.load(path, weights_only=True))
""", hint="what load_state_dict returns"),
    Variant("load_weights", "returns nothing", """\
def load_weights(net, path):
    net.load_state_dict(torch.load(path, weights_only=True))
""", hint="returned None"),
    Variant("load_weights", "returns the state_dict", """\
def load_weights(net, path):
    state = torch.load(path, weights_only=True)
    net.load_state_dict(state)
    return state
""", hint="return net"),
    Variant("load_weights", "weights_only=False", """\
def load_weights(net, path):
    net.load_state_dict(torch.load(path, weights_only=False))
    return net
""", hint="weights_only=False"),
    Variant("load_weights", "assign=True replaces the Parameters", """\
def load_weights(net, path):
    net.load_state_dict(torch.load(path, weights_only=True), assign=True)
    return net
""", hint="new Parameter objects"),
    Variant("load_weights", "loads into a copy", """\
from copy import deepcopy

def load_weights(net, path):
    new_net = deepcopy(net)
    new_net.load_state_dict(torch.load(path, weights_only=True))
    return new_net
""", hint="differ from the saved values"),
    Variant("load_weights", "never loads", """\
def load_weights(net, path):
    torch.load(path, weights_only=True)
    return net
""", hint="differ from the saved values"),
]
