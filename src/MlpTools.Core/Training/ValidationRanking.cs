namespace MlpTools.Core.Training;

/// <summary>A trained candidate (a sweep's trial) as its validation figures rank it.</summary>
public interface IValidationScored
{
    /// <summary>The candidate's number: the last tie-breaker, lower first.</summary>
    int Trial { get; }

    /// <summary>Classification: higher is better; null for regression.</summary>
    double? ValidationAccuracy { get; }

    /// <summary>Regression: lower is better; null for classification.</summary>
    double? ValidationRmse { get; }

    /// <summary>Breaks ties between equal scores.</summary>
    double? ValidationLoss { get; }
}

/// <summary>The one rule for "the best" among trained candidates, used by Invoke-MlpSweep and by its chart.</summary>
public static class ValidationRanking
{
    /// <summary>The highest accuracy (regression: the lowest RMSE), then the lower validation loss, then the lower number; null for none.</summary>
    public static T? Best<T>(IEnumerable<T> candidates) where T : class, IValidationScored => candidates
        .OrderByDescending(c => c.ValidationAccuracy ?? double.NegativeInfinity)
        .ThenBy(c => c.ValidationRmse ?? double.PositiveInfinity)
        .ThenBy(c => c.ValidationLoss ?? double.PositiveInfinity)
        .ThenBy(c => c.Trial)
        .FirstOrDefault();
}
