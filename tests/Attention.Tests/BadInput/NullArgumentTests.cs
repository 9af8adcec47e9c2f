using System.Reflection;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tokenization;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>
/// Every public method and constructor of the library, called with null for a parameter that is not declared nullable,
/// throws <see cref="ArgumentNullException"/> naming that parameter: never a <see cref="NullReferenceException"/> from
/// deep inside. The other arguments are small valid values where the test knows one, and defaults otherwise; a call that
/// fails for another reason first (an <see cref="ArgumentException"/> about another argument) is fine.
/// </summary>
public class NullArgumentTests
{
    private static readonly NullabilityInfoContext Nullability = new();

    private static readonly Transformer Model = new(TransformerOptions.Small(6, 6) with { MaxPositions = 8 }, new TorchGenerator(1));

    /// <summary>An instance to call each type's instance methods on.</summary>
    private static readonly Dictionary<Type, object> Instances = new()
    {
        [typeof(Linear)] = new Linear(4, 3, new TorchGenerator(1)),
        [typeof(LayerNorm)] = new LayerNorm(4),
        [typeof(Embedding)] = new Embedding(6, 4, new TorchGenerator(1)),
        [typeof(SinusoidalPositionalEncoding)] = new SinusoidalPositionalEncoding(4, 8),
        [typeof(LearnedPositionalEncoding)] = new LearnedPositionalEncoding(8, 4, new TorchGenerator(1)),
        [typeof(FeedForward)] = new FeedForward(4, 8, Activation.ReLU, new TorchGenerator(1)),
        [typeof(Dropout)] = new Dropout(0.1f, new TorchGenerator(1)),
        [typeof(MultiHeadAttention)] = new MultiHeadAttention(4, 2, new TorchGenerator(1)),
        [typeof(SelfAttention)] = new SelfAttention(4, 2, 3, new TorchGenerator(1)),
        [typeof(EncoderLayer)] = Model.Encoder.Layers[0],
        [typeof(DecoderLayer)] = Model.Decoder.Layers[0],
        [typeof(TransformerEncoder)] = Model.Encoder,
        [typeof(TransformerDecoder)] = Model.Decoder,
        [typeof(Transformer)] = Model,
        [typeof(Decoding)] = new Decoding(Model),
        [typeof(TorchGenerator)] = new TorchGenerator(1),
        [typeof(WordTokenizer)] = WordTokenizer.FromText("a b c"),
        [typeof(AttentionMask)] = AttentionMask.Causal,
    };

    public static TheoryData<string> Members()
    {
        var data = new TheoryData<string>();
        foreach (var (member, parameter) in Cases())
        {
            data.Add(Describe(member, parameter));
        }
        return data;
    }

    private static string Describe(MethodBase member, ParameterInfo parameter) =>
        $"{member.DeclaringType!.Name}.{member.Name}({string.Join(", ", member.GetParameters().Select(p => TypeName(p.ParameterType)))}) #{parameter.Position}";

    private static string TypeName(Type type) =>
        type.IsGenericType ? $"{type.Name.Split('`')[0]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>" : type.Name;

    [Theory]
    [MemberData(nameof(Members))]
    public void Null_for_a_non_nullable_parameter_is_an_ArgumentNullException(string name)
    {
        var (member, parameter) = Cases().Single(c => Describe(c.Member, c.Parameter) == name);
        var arguments = member.GetParameters().Select(p => p.Position == parameter.Position ? null : Sample(p.ParameterType)).ToArray();
        try
        {
            if (member is ConstructorInfo constructor)
            {
                constructor.Invoke(arguments);
            }
            else
            {
                var method = (MethodInfo)member;
                method.Invoke(method.IsStatic ? null : Instances[method.DeclaringType!], arguments);
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentNullException)
        {
            return;
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException and not ArgumentNullException)
        {
            return;                                                // refused for another argument first: not a crash
        }
        catch (TargetInvocationException e)
        {
            throw new InvalidOperationException($"{name}: null for '{parameter.Name}' threw {e.InnerException!.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }

    private static IEnumerable<(MethodBase Member, ParameterInfo Parameter)> Cases()
    {
        var types = typeof(Transformer).Assembly.GetExportedTypes().Where(t => !t.IsEnum && !t.IsInterface && !typeof(Delegate).IsAssignableFrom(t));
        foreach (var type in types)
        {
            var members = type.GetConstructors().Cast<MethodBase>()
                .Concat(type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                    .Where(m => !m.IsSpecialName && !m.IsGenericMethodDefinition && (m.IsStatic || Instances.ContainsKey(type))));
            if (type.IsAbstract && type.IsSealed == false)
            {
                continue;
            }
            foreach (var member in members.Where(m => !m.GetParameters().Any(p => p.ParameterType.IsByRefLike || p.ParameterType.IsByRef || p.ParameterType.IsPointer)))
            {
                if (member.DeclaringType!.Name.EndsWith("Options", StringComparison.Ordinal) || member.DeclaringType.IsValueType || IsRecordPlumbing(member))
                {
                    continue;
                }
                foreach (var parameter in member.GetParameters())
                {
                    if (!parameter.ParameterType.IsValueType && Nullability.Create(parameter).WriteState == NullabilityState.NotNull)
                    {
                        yield return (member, parameter);
                    }
                }
            }
        }
    }

    private static bool IsRecordPlumbing(MethodBase member) =>
        member.Name is "Equals" or "<Clone>$" or "PrintMembers" or "Deconstruct" or "ToString" or "GetHashCode"
        || (member is ConstructorInfo c && c.GetParameters().Length == 1 && c.GetParameters()[0].ParameterType == c.DeclaringType);

    /// <summary>A small valid value of <paramref name="type"/> where the test has one.</summary>
    private static object? Sample(Type type) =>
        type == typeof(Matrix<float>) ? Matrix<float>.Build.Dense(2, 4, 0.5f)
        : type == typeof(Vector<float>) ? Vector<float>.Build.Dense(4, 1f)
        : type == typeof(TorchGenerator) ? new TorchGenerator(1)
        : type == typeof(string) ? "a"
        : type == typeof(TransformerOptions) ? TransformerOptions.Small(6, 6)
        : type == typeof(DecodingOptions) ? new DecodingOptions { StartToken = 0, MaxNewTokens = 2 }
        : type == typeof(SamplingOptions) ? new SamplingOptions()
        : type == typeof(int[]) || type == typeof(IReadOnlyList<int>) || type == typeof(IEnumerable<int>) ? new[] { 1, 2 }
        : type == typeof(int) ? 2
        : type == typeof(float) ? 0.5f
        : type == typeof(long) ? 1L
        : type == typeof(double) ? 0.5
        : type == typeof(bool) ? false
        : type.IsValueType ? Activator.CreateInstance(type)
        : null;
}
