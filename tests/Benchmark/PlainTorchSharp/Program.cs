// The lecture notebook's recipe written directly against TorchSharp: the yardstick for MlpTools' overhead.
// Does the same work as the cmdlets in Bench.ps1: load, 10 epochs (each followed by a train-accuracy pass,
// as Invoke-MlpTraining does), then test accuracy once. Prints its figures as key=value lines.
// Arguments: data folder ('' for the default), epochs, hidden width, depth; or --sgemm [threads].
using System.Diagnostics;
using MlpTools.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

if (args.Length > 0 && args[0] == "--sgemm")
{
    if (args.Length > 1)
    {
        torch.set_num_threads(int.Parse(args[1]));
    }
    Console.WriteLine($"sgemm_gflops={SgemmGflops(2048):F1}");
    Console.WriteLine($"threads={torch.get_num_threads()}");
    return;
}

string dataFolder = args.Length > 0 && args[0].Length > 0 ? args[0] : MnistFiles.DefaultDataPath;
int epochs = args.Length > 1 ? int.Parse(args[1]) : 10;
int hidden = args.Length > 2 ? int.Parse(args[2]) : 256;
int depth = args.Length > 3 ? int.Parse(args[3]) : 1;
const int BatchSize = 256;

(Tensor Images, Tensor Labels) Load(MnistSplit split)
{
    var (imagesStem, labelsStem) = MnistFiles.FileStems(split);
    var images = IdxReader.Read(Path.Combine(dataFolder, imagesStem), 3);
    var labels = IdxReader.Read(Path.Combine(dataFolder, labelsStem), 1);
    int count = images.Dimensions[0];
    return (tensor(images.Data, new long[] { count, 784 }, ScalarType.Byte).to(ScalarType.Float32).div_(255f),
            tensor(labels.Data, ScalarType.Byte).to(ScalarType.Int64));
}

double Accuracy(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    model.eval();
    long correct = 0;
    for (long start = 0; start < images.shape[0]; start += 1000)
    {
        long length = Math.Min(1000, images.shape[0] - start);
        correct += model.forward(images.narrow(0, start, length)).argmax(1).eq(labels.narrow(0, start, length)).sum().item<long>();
    }
    model.train();
    return (double)correct / images.shape[0];
}

// The machine's float32 matrix-multiply rate: the compute floor that training throughput is compared with.
// Best of five after two warm-up runs. Run on its own (argument --sgemm), so it adds nothing to the timed training run.
double SgemmGflops(int n)
{
    using var scope = NewDisposeScope();
    var a = randn(n, n);
    var b = randn(n, n);
    double best = double.MaxValue;
    for (int run = 0; run < 7; run++)
    {
        var timer = Stopwatch.StartNew();
        using var product = mm(a, b);
        _ = product[0, 0].item<float>();
        if (run >= 2)
        {
            best = Math.Min(best, timer.Elapsed.TotalSeconds);
        }
    }
    return 2.0 * n * n * n / best / 1e9;
}

var (trainImages, trainLabels) = Load(MnistSplit.Train);
var (testImages, testLabels) = Load(MnistSplit.Test);
var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
for (int layer = 0; layer < depth; layer++)
{
    layers.Add(($"lin_{layer + 1}", nn.Linear(layer == 0 ? 784 : hidden, hidden)));
    layers.Add(($"relu_{layer + 1}", nn.ReLU()));
}
layers.Add(($"lin_{depth + 1}", nn.Linear(hidden, 10)));
var model = nn.Sequential(layers);
using (no_grad())
{
    foreach (var linear in model.modules().OfType<TorchSharp.Modules.Linear>())
    {
        nn.init.kaiming_normal_(linear.weight!);
        linear.bias!.zero_();
    }
}
var optimizer = optim.Adam(model.parameters(), 1e-3);
long count = trainImages.shape[0];
var clock = Stopwatch.StartNew();
double firstEpochSeconds = 0;
for (int epoch = 1; epoch <= epochs; epoch++)
{
    using var epochScope = NewDisposeScope();
    var order = randperm(count);
    double lossSum = 0;
    int batches = 0;
    for (long start = 0; start < count; start += BatchSize)
    {
        using var batchScope = NewDisposeScope();
        var rows = order.narrow(0, start, Math.Min(BatchSize, count - start));
        var loss = nn.functional.cross_entropy(model.forward(trainImages.index_select(0, rows)), trainLabels.index_select(0, rows));
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        lossSum += loss.item<float>();
        batches++;
    }
    Console.WriteLine($"epoch={epoch} loss={lossSum / batches:F4} train_accuracy={Accuracy(model, trainImages, trainLabels):F4}");
    firstEpochSeconds = epoch == 1 ? clock.Elapsed.TotalSeconds : firstEpochSeconds;
}
Console.WriteLine($"train_seconds={clock.Elapsed.TotalSeconds:F3}");
Console.WriteLine($"test_accuracy={Accuracy(model, testImages, testLabels):F4}");
Console.WriteLine($"threads={torch.get_num_threads()}");
Console.WriteLine($"first_epoch_seconds={firstEpochSeconds:F3}");
Console.WriteLine($"cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F3}");
Console.WriteLine($"peak_memory_bytes={Process.GetCurrentProcess().PeakWorkingSet64}");
