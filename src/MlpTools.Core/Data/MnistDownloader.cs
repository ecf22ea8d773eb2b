using System.IO.Compression;
using System.Security.Cryptography;
using MlpTools.Core.Platform;

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

    /// <summary>
    /// Downloads one file, verifies it and moves it into place. Returns the mirror it came from. A mirror that fails
    /// (unreachable, 404, wrong bytes) is skipped; a local write that fails (a full disk) ends the download at once
    /// with FileWriteFailed, since no other mirror can help.
    /// </summary>
    /// <param name="progress">Told the fraction of the file fetched, when the mirror says its size.</param>
    public Uri Download(string stem, string folder, IReadOnlyList<Uri> mirrors, CancellationToken cancel, IProgress<double>? progress = null)
    {
        string expected = MnistFiles.MnistSha256[stem];
        var failures = new List<string>();
        Directory.CreateDirectory(folder);
        string target = Path.GetFullPath(Path.Combine(folder, stem));
        // Refused before anything is fetched: a folder, a device or a FIFO in the file's place.
        RegularFile.Exists(target);
        foreach (Uri mirror in mirrors)
        {
            foreach (string fileName in new[] { stem + ".gz", stem })
            {
                var source = new Uri(EnsureTrailingSlash(mirror), fileName);
                // The raw download goes to a file first: a network stream cannot be peeked for the gzip magic.
                string downloaded = AtomicFile.TemporaryPath(folder, stem);
                try
                {
                    Fetch(source, downloaded, target, cancel, progress);
                    AtomicFile.Write(target, output => WriteVerified(downloaded, output, expected, cancel));
                    return source;
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    throw;
                }
                catch (ChecksumMismatchException e)
                {
                    failures.Add($"{source}: SHA-256 {e.Actual} does not match the pinned {expected}");
                }
                catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or TaskCanceledException or UnauthorizedAccessException)
                {
                    failures.Add($"{source}: {(e is TaskCanceledException ? "timed out" : e.Message)}");
                }
                finally
                {
                    AtomicFile.TryDelete(downloaded);
                }
            }
        }
        throw new MlpToolsException(ErrorIds.MnistDownloadFailed,
            $"Could not download '{stem}' from any mirror; nothing was written to '{folder}'.{Environment.NewLine}" +
            string.Join(Environment.NewLine, failures) + Environment.NewLine +
            "Check the network or give -Mirror a server that has the files; or copy the four IDX files into the folder yourself and use -Path.",
            stem);
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the local file <paramref name="downloaded"/>. What fails while reading is the
    /// mirror's fault (an exception the caller counts as a failed mirror); what fails while writing is FileWriteFailed,
    /// naming <paramref name="target"/>, the file the download is for.
    /// </summary>
    private void Fetch(Uri source, string downloaded, string target, CancellationToken cancel, IProgress<double>? progress)
    {
        long? size = null;
        using Stream body = source.IsFile ? OpenLocal(source.LocalPath) : OpenHttp(source, cancel, out size);
        size ??= body.CanSeek ? body.Length : null;
        long fetched = 0;
        // Unbuffered, so every failed write shows here and none is left for Dispose.
        using var output = WriteLocal(target, () => new FileStream(downloaded, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0));
        var chunk = new byte[1 << 16];
        int read;
        while ((read = body.ReadAsync(chunk, cancel).AsTask().GetAwaiter().GetResult()) > 0)
        {
            WriteLocal(target, () => { output.Write(chunk, 0, read); return output; });
            fetched += read;
            if (size > 0)
            {
                progress?.Report(Math.Min(1, fetched / (double)size));
            }
        }
    }

    private static T WriteLocal<T>(string target, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw RegularFile.WriteFailed(target, e, $"Nothing was written to '{Path.GetDirectoryName(target)}'.");
        }
    }

    /// <summary>A file of a local mirror: only a regular file (a FIFO there would block the download for good).</summary>
    private static FileStream OpenLocal(string path) => RegularFile.Exists(Path.GetFullPath(path))
        ? File.OpenRead(path)
        : throw new FileNotFoundException($"'{path}' does not exist.", path);

    /// <summary>Writes the uncompressed content of <paramref name="downloaded"/> to <paramref name="output"/>; throws when its SHA-256 is not <paramref name="expected"/>.</summary>
    private static void WriteVerified(string downloaded, Stream output, string expected, CancellationToken cancel)
    {
        using var file = File.OpenRead(downloaded);
        using Stream content = IdxReader.IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 16];
        int read;
        while ((read = content.Read(chunk)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            hash.AppendData(chunk, 0, read);
            output.Write(chunk, 0, read);
        }
        string actual = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
        if (actual != expected)
        {
            throw new ChecksumMismatchException(actual);
        }
    }

    /// <summary>A download whose bytes are not the pinned ones: the mirror's failure, and the file in place stays as it was.</summary>
    private sealed class ChecksumMismatchException(string actual) : Exception($"SHA-256 {actual}")
    {
        public string Actual { get; } = actual;
    }

    private Stream OpenHttp(Uri source, CancellationToken cancel, out long? size)
    {
        var response = _http.Send(new HttpRequestMessage(HttpMethod.Get, source), HttpCompletionOption.ResponseHeadersRead, cancel);
        response.EnsureSuccessStatusCode();
        size = response.Content.Headers.ContentLength;
        return response.Content.ReadAsStream(cancel);
    }

    private static Uri EnsureTrailingSlash(Uri mirror) =>
        mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/");
}
