using System.Text.Json;

namespace MlpTools.Core.Sweeps;

/// <summary>
/// Identifies a sweep: its datasets (their SHA-256 fingerprints), its space (with the seed and the number of draws)
/// and the settings every trial shares (epochs, early stopping). Two runs with the same fingerprint run the same
/// trials on the same data, so one may continue the other's result file.
/// </summary>
public static class SweepFingerprint
{
    public static string Of(IEnumerable<string> datasetSha256, SweepSpace space, IReadOnlyDictionary<string, object> settings) =>
        SweepValues.Sha256(SweepValues.ToJson(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("datasets");
            foreach (string sha in datasetSha256)
            {
                json.WriteStringValue(sha);
            }
            json.WriteEndArray();
            json.WritePropertyName("space");
            space.WriteTo(json);
            json.WritePropertyName("settings");
            SweepTrial.WriteParameters(json, new SortedDictionary<string, object>(settings.ToDictionary(s => s.Key, s => s.Value), StringComparer.Ordinal));
            json.WriteEndObject();
        }));
}
