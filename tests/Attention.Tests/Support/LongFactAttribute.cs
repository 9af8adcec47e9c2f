namespace Attention.Tests.Support;

/// <summary>A test that runs long (property runs of many thousand cases, fuzzing of 100,000 files): skipped unless the
/// environment variable <c>ATTENTION_LONG</c> is 1. Run them with <c>ATTENTION_LONG=1 dotnet test --filter Category=Long</c>;
/// each has a short twin that runs every time.</summary>
public sealed class LongFactAttribute : FactAttribute
{
    /// <summary>Whether long tests are asked for in this process.</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("ATTENTION_LONG") == "1";

    /// <summary>Skips the test unless <see cref="Enabled"/>.</summary>
    public LongFactAttribute()
    {
        if (!Enabled)
        {
            Skip = "long run: set ATTENTION_LONG=1 (see README, Tests)";
        }
    }
}
