using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("DslModels.Generator.Tests")]
