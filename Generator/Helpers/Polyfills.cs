// Lets netstandard2.0 use C# 9+ records and init-only setters.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
