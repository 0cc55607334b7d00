"""External catalog for 04_modules: answers adapted from public code (see README.md)."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ---------------------------------------------------------------------------------------- make_seq_net
    Variant("make_seq_net", "jcjohnson/pytorch-examples nn/two_layer_net_nn.py: torch.nn.Sequential(Linear(D_in, H), "
            "activation, Linear(H, D_out)) (ReLU -> Tanh as the blank asks)", """
def make_seq_net(n_in, n_hidden, n_out):
    D_in, H, D_out = n_in, n_hidden, n_out
    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.Tanh(),
        torch.nn.Linear(H, D_out),
    )
    return model
"""),
    Variant("make_seq_net", "pytorch/tutorials beginner_source/basics/buildmodel_tutorial.py: "
            "nn.Sequential(nn.Linear(28*28, 512), nn.ReLU(), ...) (sizes and Tanh from the blank)", """
def make_seq_net(n_in, n_hidden, n_out):
    linear_relu_stack = nn.Sequential(
        nn.Linear(n_in, n_hidden),
        nn.Tanh(),
        nn.Linear(n_hidden, n_out),
    )
    return linear_relu_stack
"""),
    # ---------------------------------------------------------------------------------------- TwoBranchNet
    Variant("TwoBranchNet", "kuangliu/pytorch-cifar models/preact_resnet.py (PreActBlock.forward): "
            "shortcut computed first, out += shortcut, no activation after the sum", """
class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        shortcut = self.layer1(x)
        out = self.layer2(x)
        out += shortcut
        return out
"""),
    Variant("TwoBranchNet", "harvardnlp/annotated-transformer the_annotated_transformer.py (SublayerConnection.forward): "
            "return x + sublayer(...) (residual sum of two branches)", """
class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        "Apply residual connection to any sublayer with the same size."
        return self.layer1(x) + self.layer2(x)
"""),
    # ---------------------------------------------------------------------------------------- save_weights
    Variant("save_weights", "d2l-ai/d2l-en chapter_builders-guide/read-write.md: torch.save(net.state_dict(), 'mlp.params')", """
def save_weights(net, path):
    torch.save(net.state_dict(), path)
"""),
    Variant("save_weights", "mrdbourke/pytorch-deep-learning 01_pytorch_workflow.ipynb: "
            "torch.save(obj=model_0.state_dict(), f=MODEL_SAVE_PATH)", """
def save_weights(net, path):
    MODEL_SAVE_PATH = path
    # Save the model state dict
    torch.save(obj=net.state_dict(), # only saving the state_dict() only saves the models learned parameters
               f=MODEL_SAVE_PATH)
"""),
    Variant("save_weights", "rasbt/stat453-deep-learning-ss21 L13/code/save-and-load/1-lenet5-save.ipynb: "
            "torch.save(model.state_dict(), 'saved_data/model.pt')", """
def save_weights(net, path):
    model = net
    torch.save(model.state_dict(), path)
"""),
    # ---------------------------------------------------------------------------------------- load_weights
    Variant("load_weights", "d2l-ai/d2l-en chapter_builders-guide/read-write.md: "
            "clone.load_state_dict(torch.load('mlp.params')); clone.eval() (torch.load's default weights_only)", """
def load_weights(net, path):
    clone = net
    clone.load_state_dict(torch.load(path))
    clone.eval()
    return clone
"""),
    Variant("load_weights", "rasbt/stat453-deep-learning-ss21 L17/4_VAE_celeba-inspect-latent.ipynb: "
            "model.load_state_dict(torch.load(..., map_location=torch.device('cpu')))", """
def load_weights(net, path):
    model = net
    model.load_state_dict(torch.load(path, map_location=torch.device('cpu')))
    return model
"""),
    Variant("load_weights", "mrdbourke/pytorch-deep-learning 01_pytorch_workflow.ipynb: "
            "loaded_model_0.load_state_dict(torch.load(f=MODEL_SAVE_PATH))", """
def load_weights(net, path):
    MODEL_SAVE_PATH = path
    loaded_model_0 = net
    loaded_model_0.load_state_dict(torch.load(f=MODEL_SAVE_PATH))
    return loaded_model_0
"""),
]

MISTAKES = [
    # ---------------------------------------------------------------------------------------- make_seq_net
    Variant("make_seq_net", "pytorch/pytorch torch/nn/modules/container.py (Sequential docstring): "
            "nn.Sequential(OrderedDict([...])) with named layers (state_dict keys change)", """
from collections import OrderedDict

def make_seq_net(n_in, n_hidden, n_out):
    model = nn.Sequential(OrderedDict([
              ('fc1', nn.Linear(n_in, n_hidden)),
              ('tanh1', nn.Tanh()),
              ('fc2', nn.Linear(n_hidden, n_out)),
            ]))
    return model
"""),
    Variant("make_seq_net", "d2l-ai/d2l-en chapter_builders-guide/model-construction.md: MySequential(nn.Module) "
            "with add_module(str(idx), module) (not an nn.Sequential)", """
class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X

def make_seq_net(n_in, n_hidden, n_out):
    return MySequential(nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out))
"""),
    Variant("make_seq_net", "d2l-ai/d2l-en chapter_builders-guide/model-construction.md: "
            "nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10)) (uninitialised parameters)", """
def make_seq_net(n_in, n_hidden, n_out):
    net = nn.Sequential(nn.LazyLinear(n_hidden), nn.Tanh(), nn.LazyLinear(n_out))
    return net
"""),
    Variant("make_seq_net", "ShusenTang/Dive-into-DL-PyTorch docs/chapter03_DL-basics/3.10_mlp-pytorch.md: "
            "nn.Sequential(FlattenLayer(), nn.Linear, nn.ReLU(), nn.Linear) (indices shift by one)", """
def make_seq_net(n_in, n_hidden, n_out):
    net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_in, n_hidden),
            nn.Tanh(),
            nn.Linear(n_hidden, n_out),
            )
    return net
"""),
    # ---------------------------------------------------------------------------------------- TwoBranchNet
    Variant("TwoBranchNet", "kuangliu/pytorch-cifar models/resnet.py (BasicBlock.forward): out += self.shortcut(x); "
            "out = F.relu(out)", """
import torch.nn.functional as F

class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        out = self.layer2(x)
        out += self.layer1(x)
        out = F.relu(out)
        return out
"""),
    Variant("TwoBranchNet", "d2l-ai/d2l-en chapter_convolutional-modern/googlenet.md (Inception.forward): "
            "torch.cat of the branch outputs", """
class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        b1 = self.layer1(x)
        b2 = self.layer2(x)
        return torch.cat((b1, b2), dim=1)
"""),
    # ---------------------------------------------------------------------------------------- save_weights
    Variant("save_weights", "pytorch/tutorials beginner_source/basics/saveloadrun_tutorial.py "
            "(Saving and Loading Models with Shapes): torch.save(model, 'model.pth')", """
def save_weights(net, path):
    torch.save(net, path)
"""),
    Variant("save_weights", "pytorch/tutorials beginner_source/saving_loading_models.py (general checkpoint): "
            "torch.save({'model_state_dict': model.state_dict(), ...}, PATH)", """
def save_weights(net, path):
    torch.save({
                'model_state_dict': net.state_dict(),
                }, path)
"""),
    # ---------------------------------------------------------------------------------------- load_weights
    Variant("load_weights", "pytorch/tutorials beginner_source/basics/saveloadrun_tutorial.py: "
            "model = torch.load('model.pth') (returns what was loaded, not net)", """
def load_weights(net, path):
    model = torch.load(path)
    return model
"""),
    Variant("load_weights", "ShusenTang/Dive-into-DL-PyTorch docs/chapter04_DL_computation/4.5_read-write.md: "
            "net2.load_state_dict(torch.load(PATH)) as the cell's only statement (returns None)", """
def load_weights(net, path):
    net.load_state_dict(torch.load(path))
"""),
]
