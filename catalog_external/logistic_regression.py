"""External catalog for 03_logistic_regression: answers adapted from public code (see README.md)."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # --------------------------------------------------------------------------------------------- sigmoid
    Variant("sigmoid", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb (_sigmoid): "
            "1. / (1. + torch.exp(-z))", """
def sigmoid(z):
    return 1. / (1. + torch.exp(-z))
"""),
    Variant("sigmoid", "krrn0722/wake_sleep functions.py (sigmoid_tensor): torch.clip(x, -500, 500) then 1 / (1 + exp(-x))", """
def sigmoid(z):
    x = torch.clip(z, -500, 500)
    return 1 / (1 + torch.exp(-x))
"""),
    Variant("sigmoid", "ZalkinV/AM.Project AM.Project/NeuralNetwork.py: 1 / (1 + math.e**(-x))", """
import math

def sigmoid(z):
    return (1 / (1 + math.e**(-z)))
"""),
    # -------------------------------------------------------------------------------------------- bce_loss
    Variant("bce_loss", "huangyingw/fastai_fastbook exercise/binary_cross_entropy.py: "
            "-torch.where(targets == 1, inputs, 1 - inputs).log().mean() (its sigmoid line dropped: p are "
            "already probabilities)", """
def bce_loss(p, y):
    inputs, targets = p, y
    return -torch.where(targets == 1, inputs, 1 - inputs).log().mean()
"""),
    Variant("bce_loss", "d2l-ai/d2l-en chapter_appendix-mathematics-for-deep-learning/maximum-likelihood.md: "
            "-(n_H * torch.log(theta) + n_T * torch.log(1 - theta)), averaged over the examples", """
def bce_loss(p, y):
    theta, n_H, n_T = p, y, 1 - y
    loss = -(n_H * torch.log(theta) + n_T * torch.log(1 - theta))
    return loss.mean()
"""),
    # ------------------------------------------------------------------------------------ logistic_forward
    Variant("logistic_forward", "ShusenTang/Dive-into-DL-PyTorch docs/chapter03_DL-basics/3.2_linear-regression-scratch.md "
            "(linreg): torch.mm(X, w) + b", """
def logistic_forward(x, w, b):
    return torch.mm(x, w) + b
"""),
    Variant("logistic_forward", "pytorch/tutorials beginner_source/nn_tutorial.py (model): xb @ weights + bias", """
def logistic_forward(x, w, b):
    return x @ w + b
"""),
    Variant("logistic_forward", "d2l-ai/d2l-en chapter_linear-regression/linear-regression-scratch.md (forward): "
            "d2l.matmul(X, self.w) + self.b", """
def logistic_forward(x, w, b):
    return torch.matmul(x, w) + b
"""),
    # ------------------------------------------------------------------------------------- train_logistic
    Variant("train_logistic", "mrdbourke/pytorch-deep-learning 02_pytorch_classification.ipynb: BCEWithLogitsLoss, "
            "SGD(params=..., lr), optimizer.zero_grad(); loss.backward(); optimizer.step()", """
def train_logistic(x, y, w, b, lr, epochs):
    loss_fn = nn.BCEWithLogitsLoss() # BCEWithLogitsLoss = sigmoid built-in
    optimizer = torch.optim.SGD(params=[w, b], lr=lr)
    losses = []
    for epoch in range(epochs):
        # 1. Forward pass (model outputs raw logits)
        y_logits = logistic_forward(x, w, b)
        # 2. Calculate loss
        loss = loss_fn(y_logits, y)
        losses.append(loss.item())
        # 3. Optimizer zero grad
        optimizer.zero_grad()
        # 4. Loss backwards
        loss.backward()
        # 5. Optimizer step
        optimizer.step()
    return losses
"""),
    Variant("train_logistic", "yunjey/pytorch-tutorial tutorials/01-basics/logistic_regression/main.py: criterion, "
            "optimizer.zero_grad(); loss.backward(); optimizer.step(), loss.item()", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for epoch in range(epochs):
        # Forward pass
        outputs = logistic_forward(x, w, b)
        loss = criterion(outputs, y)

        # Backward and optimize
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""),
]

MISTAKES = [
    # --------------------------------------------------------------------------------------------- sigmoid
    Variant("sigmoid", "leeamen/neural_network bpnetwork/basic.py: 1 / (1 + math.exp(-x)) (scalars only)", """
import math

def sigmoid(z):
    return 1 / (1 + math.exp(-z))
"""),
    Variant("sigmoid", "utec-pi-facerecognition/frecognition Simple_Activation_Function.py: if x < 0 branch with "
            "math.exp (scalars only)", """
import math

def sigmoid(z):
  if z < 0:
    return 1 - 1/(1 + math.exp(z))
  else:
    return 1/(1 + math.exp(-z))
"""),
    Variant("sigmoid", "jimmayxu/biotransfer src/models/LogisticRegression.py: torch.sigmoid (forbidden here)", """
def sigmoid(z):
    y_pred = torch.sigmoid(z)
    return y_pred
"""),
    # -------------------------------------------------------------------------------------------- bce_loss
    Variant("bce_loss", "huangyingw/fastai_fastbook exercise/binary_cross_entropy.py as written: "
            "inputs.sigmoid() applied to probabilities", """
def bce_loss(p, y):
    inputs, targets = p, y
    inputs = inputs.sigmoid()
    return -torch.where(targets == 1, inputs, 1 - inputs).log().mean()
"""),
    Variant("bce_loss", "RolnickLab/SatBird src/losses/losses.py (CustomCrossEntropyLoss): .sum() instead of mean", """
def bce_loss(p, y):
    pred, target = p, y
    return (-target * torch.log(pred) - (1-target) *torch.log(1 - pred)).sum()
"""),
    Variant("bce_loss", "sayush2807/Neural_Networks_from_scratch losses/bce.py: -y*np.log(y) typo (log of the labels)", """
def bce_loss(p, y):
    y_hat = p
    return np.mean(-y*np.log(y)-(1-y_hat)*np.log(1-y_hat))
"""),
    Variant("bce_loss", "lukyrasocha/deep-learning-in-CV poster-2-segmentation/models/losses.py: "
            "F.binary_cross_entropy_with_logits (forbidden, and treats p as logits)", """
import torch.nn.functional as F

def bce_loss(p, y):
    return F.binary_cross_entropy_with_logits(p, y)
"""),
    Variant("bce_loss", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb (_logit_cost / x.size(0)): "
            "torch.mm of row and column vectors gives a (1, 1) tensor", """
def bce_loss(p, y):
    proba = p
    tmp1 = torch.mm(-y.view(1, -1), torch.log(proba.view(-1, 1)))
    tmp2 = torch.mm((1 - y).view(1, -1), torch.log(1 - proba.view(-1, 1)))
    return (tmp1 - tmp2) / p.size(0)
"""),
    Variant("bce_loss", "jamesmccaffreyblog.com/2020/09/03/how-pytorch-computes-bce-loss/ (my_bce): per-row loop, "
            "-sum / len (a (1,) tensor)", """
def bce_loss(p, y):
    # mean binary cross entropy error.
    sum = 0.0
    oupts = p
    targets = y
    for i in range(len(oupts)):
        oupt = oupts[i]
        if targets[i] >= 0.5: # avoiding == 1.0
            sum += torch.log(oupt)
        else:
            sum += torch.log(1 - oupt)
    return -sum / len(oupts)
"""),
    # ------------------------------------------------------------------------------------ logistic_forward
    Variant("logistic_forward", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb "
            "(LogisticRegression1.forward): .view(-1) and a sigmoid (returns probabilities)", """
def logistic_forward(x, w, b):
    linear = torch.add(torch.mm(x, w), b).view(-1) # net input
    probas = sigmoid(linear)
    return probas
"""),
    Variant("logistic_forward", "jimmayxu/biotransfer src/models/LogisticRegression.py: torch.sigmoid(self.linear(x)) "
            "(probabilities, not logits)", """
def logistic_forward(x, w, b):
    y_pred = torch.sigmoid(x @ w + b)
    return y_pred
"""),
    # ------------------------------------------------------------------------------------- train_logistic
    Variant("train_logistic", "pytorch/tutorials beginner_source/basics/optimization_tutorial.py (train_loop): "
            "loss.backward(); optimizer.step(); optimizer.zero_grad() (zeroes after the step, not before backward)", """
def train_logistic(x, y, w, b, lr, epochs):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for t in range(epochs):
        # Compute prediction and loss
        pred = logistic_forward(x, w, b)
        loss = loss_fn(pred, y)
        losses.append(loss.item())

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return losses
"""),
    Variant("train_logistic", "pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py: "
            "optim.SGD(net.parameters(), lr=0.001, momentum=0.9) (momentum)", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=0.9)
    losses = []
    for epoch in range(epochs):
        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = logistic_forward(x, w, b)
        loss = criterion(outputs, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""),
    Variant("train_logistic", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb: "
            "F.binary_cross_entropy(sigmoid output, y, reduction='sum')", """
import torch.nn.functional as F

def train_logistic(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for epoch in range(epochs):
        #### Compute outputs ####
        out = torch.sigmoid(logistic_forward(x, w, b))
        #### Compute gradients ####
        loss = F.binary_cross_entropy(out, y, reduction='sum')
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        #### Update weights ####
        optimizer.step()
    return losses
"""),
    # ------------------------------------------------------------------------------------------- accuracy
    Variant("accuracy", "mrdbourke/pytorch-deep-learning 02_pytorch_classification.ipynb (accuracy_fn with "
            "torch.round(torch.sigmoid(y_logits))): a percentage", """
def accuracy(logits, y):
    y_pred = torch.round(torch.sigmoid(logits)) # turn logits -> pred probs -> pred labls
    correct = torch.eq(y, y_pred).sum().item() # torch.eq() calculates where two tensors are equal
    acc = (correct / len(y_pred)) * 100
    return acc
"""),
    Variant("accuracy", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb (comp_accuracy): "
            "torch.where(pred_probas > 0.5, 1, 0) applied to logits, tensor result", """
def accuracy(logits, y):
    pred_labels = torch.where((logits > 0.5), 1, 0).view(-1)
    acc = torch.sum(pred_labels == y.view(-1)).float() / y.size(0)
    return acc
"""),
    Variant("accuracy", "rasbt/stat453-deep-learning-ss21 L08/code/logistic-regression.ipynb "
            "(predict_labels + evaluate): probas >= .5 and labels.view(-1) == y.float()", """
def accuracy(logits, y):
    probas = sigmoid(logits)
    labels = torch.where(probas >= .5, 1, 0).float() # threshold function
    accuracy = torch.sum(labels.view(-1) == y.float()).item() / y.size(0)
    return accuracy
"""),
    Variant("accuracy", "gucci-j/pytorch-imdb-cv src/metrics.py (binary_accuracy): round(sigmoid), returns a tensor", """
def accuracy(logits, y):
    preds = logits
    rounded_preds = torch.round(torch.sigmoid(preds))
    correct = (rounded_preds == y).float()
    acc = correct.sum() / len(correct)
    return acc
"""),
    Variant("accuracy", "MarcRamonMoreno/aidl-2024-spring-mlops session-3/utils.py (binary_accuracy_with_logits): "
            "preds.squeeze() compared with (N, 1) labels", """
def accuracy(logits, y):
    preds = torch.sigmoid(logits).round()  # Apply sigmoid and round to get binary predictions
    correct = torch.eq(preds.squeeze(), y.float()).float()  # Ensure labels are float for comparison
    acc = correct.mean()
    return acc.item()
"""),
    Variant("accuracy", "44REAM/Homework radianet/metrics.py (binary_accuracy): thresholds at 0.5, overwrites its "
            "input, percentage tensor", """
def accuracy(logits, y, theshold=0.5):
    output, target = logits, y
    output[output > theshold] = 1
    output[output <= theshold] = 0

    acc = len(output[output == target])/len(output)
    return torch.tensor(acc*100)
"""),
    Variant("accuracy", "usc-sail/mica-character-attribution 60-modeling/evaluation/evaluation.py (evaluate): "
            "logits > 0 / logits < 0 counts, a logit of exactly 0 is counted nowhere", """
def accuracy(logits, y):
    labels = y
    tp = ((logits > 0) & (labels == 1)).sum().item()
    tn = ((logits < 0) & (labels == 0)).sum().item()
    fp = ((logits > 0) & (labels == 0)).sum().item()
    fn = ((logits < 0) & (labels == 1)).sum().item()
    accuracy = (tp + tn)/(tp + tn + fp + fn)
    return accuracy
"""),
]
