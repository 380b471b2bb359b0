using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DslModels.CodeFixes;

/// <summary>
/// Fixes DSL0001 (model class not partial) and DSL0005 (layer property not partial) by adding the <c>partial</c>
/// modifier; for a layer property that has a body or an initializer it also turns it into <c>{ get; }</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    /// <summary>Same ids as the analyzer's descriptors (kept as literals: this assembly does not reference the generator).</summary>
    public const string ModelNotPartialId = "DSL0001";
    public const string InvalidLayerPropertyId = "DSL0005";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(ModelNotPartialId, InvalidLayerPropertyId);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan);
            if (diagnostic.Id == ModelNotPartialId && node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } type &&
                !type.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                context.RegisterCodeFix(CodeAction.Create($"Make '{type.Identifier.Text}' partial",
                    ct => Replace(context.Document, root, type, AddPartial(type), ct), equivalenceKey: ModelNotPartialId), diagnostic);
            }
            else if (diagnostic.Id == InvalidLayerPropertyId && node.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { } property &&
                     !property.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                context.RegisterCodeFix(CodeAction.Create($"Declare '{property.Identifier.Text}' as 'partial Dense {property.Identifier.Text} {{ get; }}'",
                    ct => Replace(context.Document, root, property, MakeLayerProperty(property), ct), equivalenceKey: InvalidLayerPropertyId), diagnostic);
            }
        }
    }

    private static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax type) =>
        type.WithModifiers(type.Modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));

    private static PropertyDeclarationSyntax MakeLayerProperty(PropertyDeclarationSyntax property)
    {
        var getOnly = SyntaxFactory.AccessorList(SyntaxFactory.SingletonList(
            SyntaxFactory.AccessorDeclaration(SyntaxKind.GetAccessorDeclaration).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken))))
            .WithLeadingTrivia(SyntaxFactory.Space);
        var modifiers = property.Modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        return property
            .WithModifiers(modifiers)
            .WithExpressionBody(null)
            .WithInitializer(null)
            .WithSemicolonToken(default)
            .WithAccessorList(getOnly)
            .WithTrailingTrivia(property.GetTrailingTrivia());
    }

    private static Task<Document> Replace(Document document, SyntaxNode root, SyntaxNode oldNode, SyntaxNode newNode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(oldNode, newNode)));
    }
}
