using System;
using System.Runtime.CompilerServices;

namespace DslModels;

/// <summary>Argument checks shared by every generated model, so the messages are the same everywhere.</summary>
public static class ModelChecks
{
    /// <summary>Throws unless <paramref name="batch"/> is at least 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Batch(int batch)
    {
        if (batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be >= 1; got {batch}.");
    }

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="batch"/> * <paramref name="width"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(string argument, int actual, int batch, int width)
    {
        long expected = (long)batch * width;
        if (actual != expected)
            throw new ArgumentException($"{argument} must hold batch * {width} = {batch} * {width} = {expected} values; got {actual}.", argument);
    }

    /// <summary>Throws unless every class index is in [0, classes) or equals <paramref name="ignoreIndex"/> (when given).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ClassTargets(ReadOnlySpan<int> targets, int classes, int? ignoreIndex, string argument = "targets")
    {
        for (int i = 0; i < targets.Length; i++)
        {
            int t = targets[i];
            if ((uint)t >= (uint)classes && t != ignoreIndex)
                throw new ArgumentOutOfRangeException(argument, t, ignoreIndex is int ignore
                    ? $"{argument}[{i}] = {t} is out of range: class indices must be in [0, {classes}) or equal ignore_index ({ignore})."
                    : $"{argument}[{i}] = {t} is out of range: class indices must be in [0, {classes}).");
        }
    }

    /// <summary>Throws unless every label is in [-1, classes) (MultiLabelMarginLoss: labels, then -1 padding).</summary>
    public static void LabelTargets(ReadOnlySpan<int> targets, int classes, string argument = "targets")
    {
        for (int i = 0; i < targets.Length; i++)
        {
            int t = targets[i];
            if (t < -1 || t >= classes)
                throw new ArgumentOutOfRangeException(argument, t, $"{argument}[{i}] = {t} is out of range: labels must be in [0, {classes}), padded with -1.");
        }
    }

    /// <summary>Throws unless <paramref name="variance"/> holds batch * width or batch values, none negative (GaussianNLLLoss).</summary>
    public static void Variances(ReadOnlySpan<float> variance, int batch, int width, string argument = "variance")
    {
        if (variance.Length != batch * width && variance.Length != batch)
            throw new ArgumentException($"{argument} must hold batch * {width} = {batch * width} values (one per output) or batch = {batch} (one per sample); got {variance.Length}.", argument);
        for (int i = 0; i < variance.Length; i++)
            if (!(variance[i] >= 0f))
                throw new ArgumentOutOfRangeException(argument, variance[i], $"{argument}[{i}] = {variance[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}: variances must be >= 0 (PyTorch: var has negative entry/entries).");
    }

    /// <summary>Throws unless every target is in [0, 1] (BCELoss).</summary>
    public static void UnitIntervalTargets(ReadOnlySpan<float> targets, string argument = "targets")
    {
        for (int i = 0; i < targets.Length; i++)
        {
            float t = targets[i];
            if (!(t >= 0f && t <= 1f))
                throw new ArgumentOutOfRangeException(argument, t, $"{argument}[{i}] = {t.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is out of range: BCELoss targets must be in [0, 1].");
        }
    }

    /// <summary>Throws unless a Backward with <paramref name="batch"/> follows a Forward of the same batch.</summary>
    public static void BackwardAfterForward(int batch, int lastForwardBatch)
    {
        if (lastForwardBatch == 0)
            throw new InvalidOperationException("Backward needs the activations of a training Forward; call Forward first (Predict keeps none, and a TrainStep's own backward used those of its forward).");
        if (batch != lastForwardBatch)
            throw new ArgumentException($"batch must equal the last Forward's batch ({lastForwardBatch}); got {batch}.", nameof(batch));
    }
}
