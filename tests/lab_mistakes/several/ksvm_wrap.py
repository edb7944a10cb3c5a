"""Mistake: support is a property, though the lab lists it among the methods."""

from sklearn.svm import SVC


class KSVMWrap:
    def __init__(self, X, Y_, param_svm_c=1, param_svm_gamma="auto"):
        self.svm = SVC(C=param_svm_c, gamma=param_svm_gamma).fit(X, Y_)

    def predict(self, X):
        return self.svm.predict(X)

    def get_scores(self, X):
        return self.svm.decision_function(X)

    @property
    def support(self):
        return self.svm.support_
