namespace MlpTools.Core.Platform;

/// <summary>What kind of failure an <see cref="MlpToolsException"/> is; the cmdlets map it to a PowerShell error category.</summary>
public enum FailureKind
{
    ObjectNotFound,
    InvalidData,
    InvalidArgument,
    InvalidOperation,
    ResourceUnavailable,
    ConnectionError,
    NotInstalled,
    OperationStopped,
    ResourceExists,
    InvalidResult,
    WriteError,
    NotSpecified,
}

/// <summary>
/// A failure the user can act on: a stable <see cref="ErrorId"/> from <see cref="ErrorIds"/> that scripts and tests
/// can match, its kind (from the catalogue, so one id is always one kind), the object at fault, and a message that
/// says what to do next.
/// </summary>
public sealed class MlpToolsException : Exception
{
    public MlpToolsException(string errorId, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = ErrorIds.KindOf(errorId);
        Target = target;
    }

    public string ErrorId { get; }
    public FailureKind Kind { get; }
    public object? Target { get; }
}
