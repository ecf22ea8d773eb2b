using System.IO.Compression;
using System.Security.Cryptography;

namespace MlpTools.Core.Data;

/// <summary>
/// Fetches the MNIST files into a data folder. Each file is tried as <c>name.gz</c> then <c>name</c>
/// on each mirror in turn; its uncompressed bytes must match the pinned SHA-256 before it replaces
/// anything in the folder, so a failed or tampered download never leaves a bad file behind.
/// </summary>
public sealed class MnistDownloader : IDisposable
{
    public static readonly IReadOnlyList<Uri> DefaultMirrors = new[]
    {
        new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new Uri("https://storage.googleapis.com/cvdf-datasets/mnist/"),
    };

    private readonly HttpClient _http;

    public MnistDownloader(TimeSpan timeout)
    {
        _http = new HttpClient { Timeout = timeout };
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The files a split needs that are not yet in <paramref name="folder"/> (all of them when <paramref name="force"/>).</summary>
    public static IEnumerable<string> MissingFiles(string folder, MnistSplit split, bool force)
    {
        var (images, labels) = MnistFiles.FileStems(split);
        return new[] { images, labels }.Where(stem => force || MnistFiles.TryFind(folder, stem) is null);
    }

    /// <summary>Downloads one file, verifies it and moves it into place. Returns the mirror it came from.</summary>
    public Uri Download(string stem, string folder, IReadOnlyList<Uri> mirrors, CancellationToken cancel)
    {
        string expected = MnistFiles.MnistSha256[stem];
        var failures = new List<string>();
        Directory.CreateDirectory(folder);
        foreach (Uri mirror in mirrors)
        {
            foreach (string fileName in new[] { stem + ".gz", stem })
            {
                var source = new Uri(EnsureTrailingSlash(mirror), fileName);
                string partial = Path.Combine(folder, $".{stem}.{Guid.NewGuid():N}.partial");
                try
                {
                    string actual = Fetch(source, partial, cancel);
                    if (actual == expected)
                    {
                        File.Move(partial, Path.Combine(folder, stem), overwrite: true);
                        return source;
                    }
                    failures.Add($"{source}: SHA-256 {actual} does not match the pinned {expected}");
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or TaskCanceledException or UnauthorizedAccessException)
                {
                    failures.Add($"{source}: {(e is TaskCanceledException ? "timed out" : e.Message)}");
                }
                finally
                {
                    File.Delete(partial);
                }
            }
        }
        throw new MlpToolsException("MnistDownloadFailed", FailureKind.ConnectionError,
            $"Could not download '{stem}' from any mirror; nothing was written to '{folder}'.{Environment.NewLine}" +
            string.Join(Environment.NewLine, failures) + Environment.NewLine +
            "Check the network or give -Mirror a server that has the files; or copy the four IDX files into the folder yourself and use -Path.",
            stem);
    }

    /// <summary>Writes the uncompressed content of <paramref name="source"/> to <paramref name="target"/> and returns its SHA-256.</summary>
    private string Fetch(Uri source, string target, CancellationToken cancel)
    {
        // The raw download goes to a file first: a network stream cannot be peeked for the gzip magic.
        string downloaded = target + ".download";
        try
        {
            using (Stream body = source.IsFile ? File.OpenRead(source.LocalPath) : OpenHttp(source, cancel))
            using (var output = File.Create(downloaded))
            {
                body.CopyToAsync(output, cancel).GetAwaiter().GetResult();
            }
            using var file = File.OpenRead(downloaded);
            using Stream content = IdxReader.IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var result = File.Create(target);
            var chunk = new byte[1 << 16];
            int read;
            while ((read = content.Read(chunk)) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                hash.AppendData(chunk, 0, read);
                result.Write(chunk, 0, read);
            }
            return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
        }
        finally
        {
            File.Delete(downloaded);
        }
    }

    private Stream OpenHttp(Uri source, CancellationToken cancel)
    {
        var response = _http.Send(new HttpRequestMessage(HttpMethod.Get, source), HttpCompletionOption.ResponseHeadersRead, cancel);
        response.EnsureSuccessStatusCode();
        return response.Content.ReadAsStream(cancel);
    }

    private static Uri EnsureTrailingSlash(Uri mirror) =>
        mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/");
}
