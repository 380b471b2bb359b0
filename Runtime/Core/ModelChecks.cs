using System;

namespace DslModels;

/// <summary>Argument checks shared by every generated model, so the messages are the same everywhere.</summary>
public static class ModelChecks
{
    /// <summary>Throws unless <paramref name="batch"/> is at least 1.</summary>
    public static void Batch(int batch)
    {
        if (batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be >= 1; got {batch}.");
    }

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="batch"/> * <paramref name="width"/>.</summary>
    public static void Length(string argument, int actual, int batch, int width)
    {
        long expected = (long)batch * width;
        if (actual != expected)
            throw new ArgumentException($"{argument} must hold batch * {width} = {batch} * {width} = {expected} values; got {actual}.", argument);
    }

    /// <summary>Throws unless every class index is in [0, classes) or equals <paramref name="ignoreIndex"/>.</summary>
    public static void ClassTargets(ReadOnlySpan<int> targets, int classes, int ignoreIndex, string argument = "targets")
    {
        for (int i = 0; i < targets.Length; i++)
        {
            int t = targets[i];
            if ((uint)t >= (uint)classes && t != ignoreIndex)
                throw new ArgumentOutOfRangeException(argument, t, $"{argument}[{i}] = {t} is out of range: class indices must be in [0, {classes}) or equal ignore_index ({ignoreIndex}).");
        }
    }

    /// <summary>Throws unless a Backward with <paramref name="batch"/> follows a Forward of the same batch.</summary>
    public static void BackwardAfterForward(int batch, int lastForwardBatch)
    {
        if (lastForwardBatch == 0)
            throw new InvalidOperationException("Backward needs the activations of a training Forward; call Forward (not Predict) first.");
        if (batch != lastForwardBatch)
            throw new ArgumentException($"batch must equal the last Forward's batch ({lastForwardBatch}); got {batch}.", nameof(batch));
    }
}
