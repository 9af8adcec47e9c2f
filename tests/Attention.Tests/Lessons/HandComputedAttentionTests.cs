using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Lessons;

/// <summary>
/// The "simplified self-attention" of LLMs-from-scratch, chapter 3: no trainable weights, no scaling, six tokens of
/// three numbers each, small enough to check on paper. Query 2 is "journey".
/// </summary>
public class HandComputedAttentionTests
{
    private static readonly Matrix<float> Inputs = Matrix<float>.Build.DenseOfArray(new float[,]
    {
        { 0.43f, 0.15f, 0.89f }, // Your     (x¹)
        { 0.55f, 0.87f, 0.66f }, // journey  (x²)
        { 0.57f, 0.85f, 0.64f }, // starts   (x³)
        { 0.22f, 0.58f, 0.33f }, // with     (x⁴)
        { 0.77f, 0.25f, 0.10f }, // one      (x⁵)
        { 0.05f, 0.80f, 0.55f }, // step     (x⁶)
    });

    private static AttentionOutput Journey() =>
        ScaledDotProductAttention.Compute(Inputs, Inputs, Inputs, scale: 1.0f); // softmax(x·xᵀ)·x, unscaled

    [Fact]
    public void The_scores_of_journey_are_dot_products_with_every_input()
    {
        // ω₂₁ = 0.55·0.43 + 0.87·0.15 + 0.66·0.89 = 0.2365 + 0.1305 + 0.5874 = 0.9544
        // ω₂₂ = 0.55·0.55 + 0.87·0.87 + 0.66·0.66 = 0.3025 + 0.7569 + 0.4356 = 1.4950
        // ω₂₃ = 0.55·0.57 + 0.87·0.85 + 0.66·0.64 = 0.3135 + 0.7395 + 0.4224 = 1.4754
        // ω₂₄ = 0.55·0.22 + 0.87·0.58 + 0.66·0.33 = 0.1210 + 0.5046 + 0.2178 = 0.8434
        // ω₂₅ = 0.55·0.77 + 0.87·0.25 + 0.66·0.10 = 0.4235 + 0.2175 + 0.0660 = 0.7070
        // ω₂₆ = 0.55·0.05 + 0.87·0.80 + 0.66·0.55 = 0.0275 + 0.6960 + 0.3630 = 1.0865
        Expect.Close(Journey().Scores.Row(1), Vector<float>.Build.DenseOfArray([0.9544f, 1.4950f, 1.4754f, 0.8434f, 0.7070f, 1.0865f]),
            relative: 0, absolute: 1e-6f, what: "scores of journey");
    }

    [Fact]
    public void The_weights_of_journey_are_the_softmax_of_its_scores()
    {
        // exp(ω): 2.5971, 4.4593, 4.3728, 2.3243, 2.0279, 2.9639 — sum 18.7453
        // α₂₁ = 2.5971 / 18.7453 = 0.1385, α₂₂ = 0.2379, α₂₃ = 0.2333, α₂₄ = 0.1240, α₂₅ = 0.1082, α₂₆ = 0.1581
        Expect.Close(Journey().Weights.Row(1), Vector<float>.Build.DenseOfArray([0.1385f, 0.2379f, 0.2333f, 0.1240f, 0.1082f, 0.1581f]),
            relative: 0, absolute: 5e-5f, what: "weights of journey (printed to 4 decimals)");
    }

    [Fact]
    public void The_context_vector_of_journey_is_the_weighted_sum_of_the_inputs()
    {
        // z² = Σ α₂ⱼ·xʲ, first entry: 0.1385·0.43 + 0.2379·0.55 + 0.2333·0.57 + 0.1240·0.22 + 0.1082·0.77 + 0.1581·0.05
        //                              = 0.0596 + 0.1308 + 0.1330 + 0.0273 + 0.0833 + 0.0079 = 0.4419
        Expect.Close(Journey().Output.Row(1), Vector<float>.Build.DenseOfArray([0.4419f, 0.6515f, 0.5683f]),
            relative: 0, absolute: 5e-5f, what: "context vector of journey (printed to 4 decimals)");
    }
}
