// Inference with weights that do not change: pack each weight for the matrix product once, not on every call.
//
// A product C = A·B copies B into panels laid out for the micro-kernel before it multiplies (docs/kernels.md, "Packing").
// For y = x·Wᵀ the weight W is B, and on one core a whole encoder layer packs 3.1 million weight floats per call, about
// a fifteenth of its time; a decoding step, one token deep, packs every weight of the decoder to multiply one row by it.
// Weights are constants at inference, so inference engines pack them once when they load a model; here the caller says
// when that holds, with a scope, as torch.inference_mode() is a scope.
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>
/// A scope in which the caller promises that no weight changes, so every <see cref="Layers.Linear"/> packs its weight for
/// the matrix product once (on its first call in the scope) and reuses the packed copy until the scope ends.
/// </summary>
/// <remarks>
/// <para>Results are bit-identical with and without the scope: packing copies floats, it does not change a sum.</para>
/// <para>Inside the scope, a change to a <see cref="Layers.Linear.Weight"/> that has already been used is <b>not seen</b>:
/// products keep reading the copy packed earlier. Change weights outside the scope (or start a new one). Biases are read
/// on every call and may change.</para>
/// <para>The packed copies take about as much memory as the weights. When a scope ends they are kept, tied to their
/// weights (so they go with the model), for the next scope: if a weight still holds exactly the values its panels were
/// packed from (checked bit for bit on the first use in the new scope, a read of both and no writes) the panels are used
/// as they are; otherwise the weight is packed again into the same memory, so a weight changed between scopes (an
/// optimizer step) is never served stale. Memory touched before costs far less than fresh pages (measured: packing a
/// 512 × 2048 weight into fresh memory 10 ms, into reused memory 0.5 ms). <see cref="ReleaseMemory"/> frees them early.</para>
/// <para>The scope belongs to the async flow that began it, and flows into the tasks and parallel loops it starts; other
/// threads are not affected. Threads in one scope share one packed copy of each weight. Dispose the scope after the work
/// inside it has finished. <see cref="Transformers.Decoding"/> opens a scope of its own around each decoding call.</para>
/// <example><code>
/// using (FrozenWeights.Begin())
/// {
///     foreach (var sentence in batch)
///     {
///         outputs.Add(encoder.Forward(sentence));   // packs each weight on the first sentence only
///     }
/// }
/// </code></example>
/// </remarks>
public static class FrozenWeights
{
    private static readonly AsyncLocal<Scope?> Current = new();

    // Panels of ended scopes, for the next scope that needs the same weight at the same width.
    private static readonly ConditionalWeakTable<Matrix<float>, PackedPanels?[]> Spare = [];

    /// <summary>Whether the calling async flow is inside a scope begun by <see cref="Begin"/>.</summary>
    public static bool IsActive => Current.Value is not null;

    /// <summary>Begins a scope in which weights do not change; dispose it to end the scope.</summary>
    /// <returns>The scope. Scopes nest: an inner scope packs afresh, and disposing it returns to the outer one.</returns>
    public static IDisposable Begin()
    {
        var scope = new Scope(Current.Value);
        Current.Value = scope;
        return scope;
    }

    /// <summary>Frees the packed copies that ended scopes kept for reuse (those of open scopes stay until they end).</summary>
    public static void ReleaseMemory() => Spare.Clear();

    /// <summary>A scope for a library call that cannot change a weight while it runs (a decoding loop), or null when the
    /// caller has begun one already (whose packed copies it then shares).</summary>
    internal static IDisposable? BeginUnlessActive() => IsActive ? null : Begin();

    /// <summary>
    /// W packed as the B operand of y = x·Wᵀ (B = Wᵀ [in × out], read in place from W's column-major storage) for
    /// <paramref name="width"/>'s micro-kernel, or null outside a scope.
    /// </summary>
    internal static PackedPanels? Transposed(Matrix<float> weight, SimdWidth width) =>
        Current.Value?.Transposed(weight, width);

    private static int Slot(SimdWidth width) => (int)width / 128; // 0, 1, 2, 4

    private static readonly int SlotCount = Slot(SimdWidth.Vector512) + 1;

    private static PackedPanels?[] NewSlots(Matrix<float> weight) => new PackedPanels?[SlotCount];

    private static PackedPanels? TakeSpare(Matrix<float> weight, SimdWidth width)
    {
        lock (Spare)
        {
            if (!Spare.TryGetValue(weight, out var slots))
            {
                return null;
            }
            var panels = slots[Slot(width)];
            slots[Slot(width)] = null; // one scope owns the panels at a time
            return panels;
        }
    }

    private static void KeepSpare(Matrix<float> weight, SimdWidth width, PackedPanels panels)
    {
        lock (Spare)
        {
            Spare.GetValue(weight, NewSlots)[Slot(width)] = panels;
        }
    }

    private sealed class Scope(Scope? outer) : IDisposable
    {
        // Keyed by the weight matrix itself: a layer that shares another's weight (the LM head tied to the embedding)
        // shares its packed copy. One slot per vector width, since each micro-kernel has its own panel width.
        private readonly ConditionalWeakTable<Matrix<float>, Lazy<PackedPanels>?[]> _packed = [];

        private bool _disposed;

        public PackedPanels? Transposed(Matrix<float> weight, SimdWidth width)
        {
            if (_disposed)
            {
                return null; // work still running after its scope ended: pack as usual
            }
            var slots = _packed.GetValue(weight, _ => new Lazy<PackedPanels>?[SlotCount]);
            var slot = Volatile.Read(ref slots[Slot(width)]);
            if (slot is null)
            {
                var (rows, columns) = (weight.RowCount, weight.ColumnCount);
                var fresh = new Lazy<PackedPanels>(() => Reuse(weight, rows, columns, width));
                slot = Interlocked.CompareExchange(ref slots[Slot(width)], fresh, null) ?? fresh; // one packing when threads race here
            }
            return slot.Value;
        }

        /// <summary>The panels an ended scope kept for this weight when they still hold its values; else the weight packed
        /// again (into their memory when there is one).</summary>
        private static PackedPanels Reuse(Matrix<float> weight, int rows, int columns, SimdWidth width)
        {
            var values = Storage.ColumnMajor(weight);   // Wᵀ(p, j) = W(j, p) at j + p·rows: B = Wᵀ has contiguous rows
            var spare = TakeSpare(weight, width);
            return spare is not null && spare.Holds(values, rows, 1, columns, rows, width)
                ? spare
                : PackedPanels.Pack(values, rows, 1, columns, rows, width, spare?.Data);
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            if (Current.Value == this)
            {
                Current.Value = outer;
            }
            foreach (var (weight, slots) in _packed)
            {
                foreach (var slot in slots)
                {
                    if (slot is { IsValueCreated: true, Value: var panels })
                    {
                        KeepSpare(weight, panels.Width, panels);
                    }
                }
            }
            _packed.Clear();
        }
    }
}
