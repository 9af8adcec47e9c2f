using Attention.Training;
using Attention.Visualization;

namespace Attention.Tests.Visualization;

public class LossCurveTests
{
    [Fact]
    public void The_curve_joins_every_finite_loss_and_marks_each_evaluation()
    {
        // Updates 1 … 4 with losses 2, 1, NaN (left out), 0.5; evaluations after updates 2 and 4. The chart is 640 wide with
        // 60 + 20 pixels of margin, so update u sits at x = 60 + 560·u/4, and the largest loss (2) at the top, y = 40.
        LossPoint[] training = [new(1, 2), new(2, 1), new(3, double.NaN), new(4, 0.5)];
        LossPoint[] validation = [new(2, 1.5), new(4, 0.75)];
        var svg = LossCurve.ToSvg(training, validation, "Loss <after> 4 updates");
        svg.Should().StartWith("<svg").And.EndWith("</svg>" + Environment.NewLine);
        svg.Should().Contain("points=\"200,40 340,180 620,250\"", "three finite points: (1, 2), (2, 1), (4, 0.5)");
        svg.Should().Contain("<circle cx=\"340\"").And.Contain("<circle cx=\"620\"");
        svg.Should().Contain("Loss &lt;after&gt; 4 updates", "the title is escaped");
    }
}
